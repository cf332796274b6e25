package export

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	eventsDesc = prometheus.NewDesc("export_events_total",
		"Events (flows, lost events, node statuses) an exporter wrote or sent.", []string{"exporter"}, nil)
	droppedDesc = prometheus.NewDesc("export_dropped_events_total",
		"Events an exporter did not export, by reason: ring_overwritten (the ring's writer overtook it), encode_failed, write_failed (e.g. a full disk).",
		[]string{"exporter", "reason"}, nil)
	healthyDesc = prometheus.NewDesc("export_healthy",
		"0 from an exporter's failed write until one succeeds, 1 otherwise.", []string{"exporter"}, nil)
)

// Collector returns the exporters' metrics, read at scrape time.
func (m *Manager) Collector() prometheus.Collector { return collector{m} }

type collector struct{ m *Manager }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- eventsDesc
	ch <- droppedDesc
	ch <- healthyDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	for name, st := range c.m.statuses {
		ch <- prometheus.MustNewConstMetric(eventsDesc, prometheus.CounterValue, float64(st.exported.Load()), name)
		for r := range numReasons {
			ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.CounterValue, float64(st.dropped[r].Load()), name, r.String())
		}
		healthy := 0.0
		if st.healthy.Load() {
			healthy = 1
		}
		ch <- prometheus.MustNewConstMetric(healthyDesc, prometheus.GaugeValue, healthy, name)
	}
}
