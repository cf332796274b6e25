package l7

import "github.com/prometheus/client_golang/prometheus"

var (
	storedDesc = prometheus.NewDesc("l7_details_stored_total",
		"L7 details (e.g. DNS messages) stored for flows.", nil, nil)
	expiredDesc = prometheus.NewDesc("l7_details_expired_total",
		"Lookups of L7 details that had been overwritten: the flow was served without its L7 fields.", nil, nil)
	capacityDesc = prometheus.NewDesc("l7_details_capacity",
		"How many L7 details the agent keeps.", nil, nil)
)

// Collector returns the store's metrics.
func (s *Store) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Store }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- storedDesc
	ch <- expiredDesc
	ch <- capacityDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(storedDesc, prometheus.CounterValue, float64(c.s.stored.Load()))
	ch <- prometheus.MustNewConstMetric(expiredDesc, prometheus.CounterValue, float64(c.s.expired.Load()))
	ch <- prometheus.MustNewConstMetric(capacityDesc, prometheus.GaugeValue, float64(c.s.Cap()))
}
