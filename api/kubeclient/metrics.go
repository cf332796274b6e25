package kubeclient

import (
	"maps"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	apiErrorsDesc = prometheus.NewDesc("kubernetes_api_errors_total",
		"Failed Kubernetes API requests (request) and informer lists and watches (by resource); each is retried with backoff.",
		[]string{"what"}, nil)
	apiReachableDesc = prometheus.NewDesc("kubernetes_api_reachable",
		"0 from a failed Kubernetes API request until one is answered, 1 otherwise.", nil, nil)
)

// Collector returns the tracker's metrics, read at scrape time.
func (h *APIHealth) Collector() prometheus.Collector { return healthCollector{h} }

type healthCollector struct{ h *APIHealth }

func (healthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- apiErrorsDesc
	ch <- apiReachableDesc
}

func (c healthCollector) Collect(ch chan<- prometheus.Metric) {
	c.h.mu.Lock()
	errors, reachable := maps.Clone(c.h.errors), c.h.failingSince.IsZero()
	c.h.mu.Unlock()
	for what, n := range errors {
		ch <- prometheus.MustNewConstMetric(apiErrorsDesc, prometheus.CounterValue, float64(n), what)
	}
	up := 0.0
	if reachable {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(apiReachableDesc, prometheus.GaugeValue, up)
}
