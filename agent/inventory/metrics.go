package inventory

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	reloads        *prometheus.CounterVec
	lastOK         prometheus.Gauge
	pods, services prometheus.Gauge
}

func newMetrics() *metrics {
	return &metrics{
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fovea_inventory_reloads_total",
			Help: "Inventory file loads, by result (success, failure); a failed load keeps the last good state.",
		}, []string{"result"}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fovea_inventory_last_reload_successful",
			Help: "1 if the last inventory load succeeded, 0 if the agent is serving an older state.",
		}),
		pods: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fovea_inventory_pods", Help: "Pods in the inventory in use.",
		}),
		services: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fovea_inventory_services", Help: "Services in the inventory in use.",
		}),
	}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.reloads, m.lastOK, m.pods, m.services} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
