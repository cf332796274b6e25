package kube

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/agent/policy"
)

// counts are written by Run's goroutine and read by scrapes.
type counts struct {
	synced                   atomic.Bool
	rebuilds, rebuildsFailed atomic.Uint64
}

var (
	syncedDesc = prometheus.NewDesc("kubernetes_synced",
		"1 once the Kubernetes caches have synced and label flows; 0 while flows get reserved identities only.", nil, nil)
	rebuildsDesc = prometheus.NewDesc("kubernetes_index_rebuilds_total",
		"Rebuilds of the endpoint index from the Kubernetes caches, by result (success, failure).", []string{"result"}, nil)
	podsDesc = prometheus.NewDesc("kubernetes_pods",
		"Pods with addresses in the endpoint index.", nil, nil)
	servicesDesc = prometheus.NewDesc("kubernetes_services",
		"Services with frontends or backends in the endpoint index.", nil, nil)
	policiesDesc = prometheus.NewDesc("kubernetes_network_policies",
		"Network policies evaluated, by kind (NetworkPolicy, ClusterNetworkPolicy).", []string{"kind"}, nil)
	invalidPoliciesDesc = prometheus.NewDesc("kubernetes_network_policies_invalid",
		"Network policies not evaluated because they do not compile (each is logged).", nil, nil)
)

// Collector returns the watcher's metrics, read at scrape time; those of
// its API health are the health's (kubeclient.APIHealth.Collector).
func (w *Watcher) Collector() prometheus.Collector { return collector{w} }

type collector struct{ w *Watcher }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- syncedDesc
	ch <- rebuildsDesc
	ch <- podsDesc
	ch <- servicesDesc
	ch <- policiesDesc
	ch <- invalidPoliciesDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	synced := 0.0
	if c.w.counts.synced.Load() {
		synced = 1
	}
	ch <- prometheus.MustNewConstMetric(syncedDesc, prometheus.GaugeValue, synced)
	// A result is shown once it has happened, as a counter vector would.
	for result, n := range map[string]uint64{"success": c.w.counts.rebuilds.Load(), "failure": c.w.counts.rebuildsFailed.Load()} {
		if n > 0 {
			ch <- prometheus.MustNewConstMetric(rebuildsDesc, prometheus.CounterValue, float64(n), result)
		}
	}
	// The index in use is the last one rebuilt.
	ix := c.w.store.Load()
	ch <- prometheus.MustNewConstMetric(podsDesc, prometheus.GaugeValue, float64(ix.Pods))
	ch <- prometheus.MustNewConstMetric(servicesDesc, prometheus.GaugeValue, float64(ix.Services))
	if f := c.w.policies; f != nil {
		counts := f.store.Load().Policies
		for _, kind := range []string{policy.KindNetworkPolicy, policy.KindClusterNetworkPolicy} {
			ch <- prometheus.MustNewConstMetric(policiesDesc, prometheus.GaugeValue, float64(counts[kind]), kind)
		}
		ch <- prometheus.MustNewConstMetric(invalidPoliciesDesc, prometheus.GaugeValue, float64(f.invalidCount.Load()))
	}
}
