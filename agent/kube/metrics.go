package kube

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	synced    prometheus.Gauge
	reachable prometheus.Gauge
	apiErrors *prometheus.CounterVec
	rebuilds  *prometheus.CounterVec
	pods      prometheus.Gauge
	services  prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		synced: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fovea_kubernetes_synced",
			Help: "1 once the Kubernetes caches have synced and label flows; 0 while flows get reserved identities only.",
		}),
		reachable: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fovea_kubernetes_api_reachable",
			Help: "0 from a failed Kubernetes API request until one succeeds, 1 otherwise.",
		}),
		apiErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fovea_kubernetes_api_errors_total",
			Help: "Failed Kubernetes API requests (request) and informer lists and watches (by resource); each is retried with backoff.",
		}, []string{"what"}),
		rebuilds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fovea_kubernetes_index_rebuilds_total",
			Help: "Rebuilds of the endpoint index from the Kubernetes caches, by result (success, failure).",
		}, []string{"result"}),
		pods: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fovea_kubernetes_pods", Help: "Pods with addresses in the endpoint index.",
		}),
		services: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fovea_kubernetes_services", Help: "Services with frontends or backends in the endpoint index.",
		}),
	}
	m.reachable.Set(1) // until a request fails
	return m
}

func (m *metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.synced, m.reachable, m.apiErrors, m.rebuilds, m.pods, m.services} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
