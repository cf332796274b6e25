package windows

import "github.com/prometheus/client_golang/prometheus"

func gatherer(d *Decoder) prometheus.Gatherer {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(d.Collector())
	return reg
}
