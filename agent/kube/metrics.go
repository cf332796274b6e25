package kube

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	synced   prometheus.Gauge
	rebuilds *prometheus.CounterVec
	pods     prometheus.Gauge
	services prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		synced: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fovea_kubernetes_synced",
			Help: "1 once the Kubernetes caches have synced and label flows; 0 while flows get reserved identities only.",
		}),
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
	return m
}

func (m *metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.synced, m.rebuilds, m.pods, m.services} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
