package export

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	eventsDesc = prometheus.NewDesc("export_events_total",
		"Events (flows, lost events, node statuses) an exporter wrote or sent.", []string{"exporter"}, nil)
	droppedDesc = prometheus.NewDesc("export_dropped_events_total",
		"Events an exporter did not export, by reason: ring_overwritten (the ring's writer overtook it), encode_failed, write_failed (e.g. a full disk), "+
			"queue_full (the OTLP queue had no room), send_failed (the collector refused a batch or did not take it in time), rejected (the collector rejected records of a batch it took).",
		[]string{"exporter", "reason"}, nil)
	healthyDesc = prometheus.NewDesc("export_healthy",
		"0 from an exporter's failed write or send until one succeeds, 1 otherwise.", []string{"exporter"}, nil)
	queuedDesc = prometheus.NewDesc("export_queue_records",
		"Records an OTLP exporter holds in its queue, waiting to be sent.", []string{"exporter"}, nil)
)

// Collector returns the exporters' metrics, read at scrape time.
func (m *Manager) Collector() prometheus.Collector { return collector{m} }

type collector struct{ m *Manager }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- eventsDesc
	ch <- droppedDesc
	ch <- healthyDesc
	ch <- queuedDesc
	ch <- runningDesc
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
		if st.queued != nil {
			ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.GaugeValue, float64(st.queued.Load()), name)
		}
	}
	for name, e := range c.m.entries {
		if e.done == nil {
			continue // not started yet
		}
		running := 1.0
		select {
		case <-e.done:
			running = 0
		default:
		}
		ch <- prometheus.MustNewConstMetric(runningDesc, prometheus.GaugeValue, running, name)
	}
}

var (
	runningDesc = prometheus.NewDesc("export_running",
		"1 while an exporter runs, 0 once it has stopped (a flow log past its end).", []string{"exporter"}, nil)
	reloadsDesc = prometheus.NewDesc("export_config_reloads_total",
		"Flow log configuration file loads, by result (success, failure); a failed load leaves the flow logs as they were.", []string{"result"}, nil)
	lastOKDesc = prometheus.NewDesc("export_config_last_reload_successful",
		"1 if the last flow log configuration load succeeded, 0 if the flow logs run an older one.", nil, nil)
)

// Collector returns the watcher's metrics, read at scrape time.
func (w *ConfigWatcher) Collector() prometheus.Collector { return watcherCollector{w} }

type watcherCollector struct{ w *ConfigWatcher }

func (watcherCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- reloadsDesc
	ch <- lastOKDesc
}

func (c watcherCollector) Collect(ch chan<- prometheus.Metric) {
	for result, n := range map[string]uint64{"success": c.w.loads.Load(), "failure": c.w.failures.Load()} {
		if n > 0 {
			ch <- prometheus.MustNewConstMetric(reloadsDesc, prometheus.CounterValue, float64(n), result)
		}
	}
	ok := 0.0
	if c.w.lastOK.Load() {
		ok = 1
	}
	ch <- prometheus.MustNewConstMetric(lastOKDesc, prometheus.GaugeValue, ok)
}
