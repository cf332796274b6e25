package policy

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

type stageMetrics struct {
	cached, evaluated atomic.Uint64
	unenforced        *prometheus.CounterVec
}

func newStageMetrics() *stageMetrics {
	return &stageMetrics{
		unenforced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "policy_unenforced_connections_total",
			Help: "Connections a network policy denies that the node delivered all the same, by the denying policy: the network does not enforce it.",
		}, []string{"direction", "kind", "namespace", "policy"}),
	}
}

var (
	evaluationsDesc = prometheus.NewDesc("policy_evaluations_total",
		"Connection directions decided by the network policies, by whether the verdict cache held the decision.", []string{"cached"}, nil)
	cacheFlushesDesc = prometheus.NewDesc("policy_cache_flushes_total",
		"Times the verdict cache started over: policies or named ports changed, or it was full.", nil, nil)
	connOverflowsDesc = prometheus.NewDesc("policy_reported_connections_overflows_total",
		"Times the table of connections whose verdict was reported was full and started over: their next packets are reported again.", nil, nil)
)

// Collector returns the stage's series. The verdict cache and connection
// table are the writer goroutine's: their counts are read without a lock,
// as a scrape may read them a moment stale.
func (s *Stage) Collector() prometheus.Collector { return stageCollector{s} }

type stageCollector struct{ s *Stage }

func (c stageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- evaluationsDesc
	ch <- cacheFlushesDesc
	ch <- connOverflowsDesc
	c.s.m.unenforced.Describe(ch)
}

func (c stageCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.s.m
	ch <- prometheus.MustNewConstMetric(evaluationsDesc, prometheus.CounterValue, float64(m.cached.Load()), "true")
	ch <- prometheus.MustNewConstMetric(evaluationsDesc, prometheus.CounterValue, float64(m.evaluated.Load()), "false")
	ch <- prometheus.MustNewConstMetric(cacheFlushesDesc, prometheus.CounterValue, float64(c.s.cache.flushes.Load()))
	ch <- prometheus.MustNewConstMetric(connOverflowsDesc, prometheus.CounterValue, float64(c.s.conns.overflows.Load()))
	m.unenforced.Collect(ch)
}
