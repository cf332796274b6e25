package metricsconfig

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// counts are written by Run's goroutine and read by scrapes.
type counts struct {
	loads, errors atomic.Uint64
	lastOK        atomic.Bool
}

var (
	loadsDesc = prometheus.NewDesc("metrics_config_loads_total",
		"Metrics config files applied: the one read at start, then each change.", nil, nil)
	errorsDesc = prometheus.NewDesc("metrics_config_errors_total",
		"Metrics config files refused (unreadable, not parsing, or naming a handler, option, label or filter Fovea does not have); the metrics stay as they were.", nil, nil)
	lastOKDesc = prometheus.NewDesc("metrics_config_last_reload_successful",
		"1 if the metrics config file as it is now is applied, 0 if it was refused and an older version is in use.", nil, nil)
)

// Collector returns the watcher's metrics, read at scrape time.
func (w *Watcher) Collector() prometheus.Collector { return collector{w} }

type collector struct{ w *Watcher }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- loadsDesc
	ch <- errorsDesc
	ch <- lastOKDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ok := 0.0
	if c.w.counts.lastOK.Load() {
		ok = 1
	}
	ch <- prometheus.MustNewConstMetric(loadsDesc, prometheus.CounterValue, float64(c.w.counts.loads.Load()))
	ch <- prometheus.MustNewConstMetric(errorsDesc, prometheus.CounterValue, float64(c.w.counts.errors.Load()))
	ch <- prometheus.MustNewConstMetric(lastOKDesc, prometheus.GaugeValue, ok)
}
