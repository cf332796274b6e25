package inventory

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// counts are written by Run's goroutine and read by scrapes.
type counts struct {
	loads, failures atomic.Uint64
	lastOK          atomic.Bool
}

var (
	reloadsDesc = prometheus.NewDesc("inventory_reloads_total",
		"Inventory file loads, by result (success, failure); a failed load keeps the last good state.", []string{"result"}, nil)
	lastOKDesc = prometheus.NewDesc("inventory_last_reload_successful",
		"1 if the last inventory load succeeded, 0 if the agent is serving an older state.", nil, nil)
	podsDesc = prometheus.NewDesc("inventory_pods",
		"Pods in the inventory in use.", nil, nil)
	servicesDesc = prometheus.NewDesc("inventory_services",
		"Services in the inventory in use.", nil, nil)
)

// Collector returns the watcher's metrics, read at scrape time.
func (w *Watcher) Collector() prometheus.Collector { return collector{w} }

type collector struct{ w *Watcher }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- reloadsDesc
	ch <- lastOKDesc
	ch <- podsDesc
	ch <- servicesDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	// A result is shown once it has happened, as a counter vector would.
	for result, n := range map[string]uint64{"success": c.w.counts.loads.Load(), "failure": c.w.counts.failures.Load()} {
		if n > 0 {
			ch <- prometheus.MustNewConstMetric(reloadsDesc, prometheus.CounterValue, float64(n), result)
		}
	}
	ok := 0.0
	if c.w.counts.lastOK.Load() {
		ok = 1
	}
	ch <- prometheus.MustNewConstMetric(lastOKDesc, prometheus.GaugeValue, ok)
	// The inventory in use is the last one loaded.
	ix := c.w.store.Load()
	ch <- prometheus.MustNewConstMetric(podsDesc, prometheus.GaugeValue, float64(ix.Pods))
	ch <- prometheus.MustNewConstMetric(servicesDesc, prometheus.GaugeValue, float64(ix.Services))
}
