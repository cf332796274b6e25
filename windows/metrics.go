package windows

import "github.com/prometheus/client_golang/prometheus"

var (
	descEventsRead = prometheus.NewDesc("windows_events_read_total",
		"PktMon events read from the ETW session, by event: packet (160) or drop (170).", []string{"event"}, nil)
	descEventsDropped = prometheus.NewDesc("windows_events_dropped_total",
		"ETW events that produced no record, by reason (duplicate_appearance: a packet already reported at another component).",
		[]string{"reason"}, nil)
	descETWLost = prometheus.NewDesc("windows_etw_lost_total",
		"Notices from ETW (RT_LostEvent) that the real-time session lost events, buffers or its file; each is at least one event lost.",
		[]string{"what"}, nil)
)

// Collector returns the decoder's counters, read at scrape time.
func (d *Decoder) Collector() prometheus.Collector { return decoderCollector{d} }

type decoderCollector struct{ d *Decoder }

func (c decoderCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descEventsRead
	ch <- descEventsDropped
	ch <- descETWLost
}

func (c decoderCollector) Collect(ch chan<- prometheus.Metric) {
	d := c.d
	ch <- prometheus.MustNewConstMetric(descEventsRead, prometheus.CounterValue, float64(d.events[0].Load()), "packet")
	ch <- prometheus.MustNewConstMetric(descEventsRead, prometheus.CounterValue, float64(d.events[1].Load()), "drop")
	for _, r := range droppedReasons {
		ch <- prometheus.MustNewConstMetric(descEventsDropped, prometheus.CounterValue, float64(d.dropped[r].Load()), r)
	}
	for i, what := range []string{"events", "buffers", "file"} {
		ch <- prometheus.MustNewConstMetric(descETWLost, prometheus.CounterValue, float64(d.lost[i].Load()), what)
	}
}
