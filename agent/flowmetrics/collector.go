package flowmetrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// FlowCollector returns Hubble's series: the enabled handlers' and
// hubble_lost_events_total. Their names are Hubble's, so they are to be
// registered without Fovea's prefix.
func (m *Metrics) FlowCollector() prometheus.Collector { return flowCollector{m} }

type flowCollector struct{ m *Metrics }

// Describe announces every metric a handler can count, whether enabled or
// not, since Apply may enable any of them after registration. A registry
// tells descriptors apart by name, not by label names, so a metric is the
// same one whatever labels its options add.
func (c flowCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lostDesc
	for _, d := range catalogue() {
		ch <- d
	}
}

// catalogue describes every handler's metrics, with the labels they have
// without options.
var catalogue = sync.OnceValue(func() []*prometheus.Desc {
	var hs []handler
	for _, k := range handlerKinds {
		// Every handler compiles without options; alone, since some
		// conflict.
		h, _ := compile(Config{Metrics: []MetricConfig{{Name: k.name}}}, 1)
		hs = append(hs, h...)
	}
	var descs []*prometheus.Desc
	seen := map[string]bool{}
	for _, h := range hs {
		for _, s := range h.stores() {
			// http and httpV2 share names: one descriptor each.
			if !seen[s.name] {
				seen[s.name] = true
				descs = append(descs, s.desc)
			}
		}
	}
	return descs
})

func (c flowCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.lost.collect(ch)
	c.m.collect(ch, false)
}

// collect sends the series of Hubble's handlers, or with retina those of
// Retina's.
func (m *Metrics) collect(ch chan<- prometheus.Metric, retina bool) {
	// Read the counts under the lock and build the metrics after it, so
	// that the handlers wait for a copy, not for the exposition.
	m.mu.Lock()
	m.expireLocked()
	stores := m.stores[:m.retinaFrom]
	if retina {
		stores = m.stores[m.retinaFrom:]
	}
	n := 0
	for _, s := range stores {
		n += len(s.series)
	}
	samples := make([]sample, n)
	i := 0
	for _, s := range stores {
		for _, se := range s.series {
			samples[i].st, samples[i].se, samples[i].value = s, se, float64(se.count)
			if s.bounds != nil {
				samples[i].hist = s.histogram(se)
			}
			i++
		}
	}
	var hists []prometheus.Metric
	if retina {
		for _, h := range m.histograms {
			hists = append(hists, h.metric())
		}
	}
	m.mu.Unlock()
	labelSamples(samples)
	for i := range samples {
		ch <- &samples[i]
	}
	for _, h := range hists {
		ch <- h
	}
}

// RetinaCollector returns Retina's flow series (networkobservability_*),
// to be registered without Fovea's prefix.
func (m *Metrics) RetinaCollector() prometheus.Collector { return retinaCollector{m} }

type retinaCollector struct{ m *Metrics }

// Describe announces every series Retina's handlers can count.
func (c retinaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range retinaCatalogue() {
		ch <- d
	}
}

func (c retinaCollector) Collect(ch chan<- prometheus.Metric) { c.m.collect(ch, true) }

// retinaCatalogue describes the series of Retina's advanced mode, which
// has every handler.
var retinaCatalogue = sync.OnceValue(func() []*prometheus.Desc {
	hs, _ := compileRetina(RetinaConfig{Mode: RetinaAdvanced}, 1, retinaNode{})
	var descs []*prometheus.Desc
	for _, h := range hs {
		for _, s := range h.stores() {
			descs = append(descs, s.desc)
		}
		if hg, ok := h.(histogrammer); ok {
			for _, x := range hg.histograms() {
				descs = append(descs, x.desc)
			}
		}
	}
	return descs
})

// Collector returns the series of the handlers' own health: the series
// each metric holds, what its limit refused and its TTL deleted, and the
// flows the full queue dropped.
func (m *Metrics) Collector() prometheus.Collector { return healthCollector{m} }

var (
	seriesDesc = prometheus.NewDesc("metrics_series",
		"Series a Hubble flow metric holds.", []string{"metric"}, nil)
	seriesDroppedDesc = prometheus.NewDesc("metrics_series_dropped_total",
		"Flow counts a Hubble flow metric did not record because their series would have exceeded its series limit.", []string{"metric"}, nil)
	seriesExpiredDesc = prometheus.NewDesc("metrics_series_expired_total",
		"Series of a Hubble flow metric deleted because no flow had updated them for the series TTL.", []string{"metric"}, nil)
	flowsDroppedDesc = prometheus.NewDesc("metrics_flows_dropped_total",
		"Flows the Hubble flow metrics did not count because the handlers' queue was full.", nil, nil)
)

type healthCollector struct{ m *Metrics }

func (c healthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- seriesDesc
	ch <- seriesDroppedDesc
	ch <- seriesExpiredDesc
	ch <- flowsDroppedDesc
}

func (c healthCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	type counts struct {
		name                   string
		held, dropped, expired uint64
	}
	m.mu.Lock()
	// Expire as the flow collector does, or the counts would lag it.
	m.expireLocked()
	list := make([]counts, len(m.stores))
	for i, s := range m.stores {
		list[i] = counts{s.name, uint64(len(s.series)), s.dropped, s.expired}
	}
	m.mu.Unlock()
	for _, s := range list {
		ch <- prometheus.MustNewConstMetric(seriesDesc, prometheus.GaugeValue, float64(s.held), s.name)
		ch <- prometheus.MustNewConstMetric(seriesDroppedDesc, prometheus.CounterValue, float64(s.dropped), s.name)
		ch <- prometheus.MustNewConstMetric(seriesExpiredDesc, prometheus.CounterValue, float64(s.expired), s.name)
	}
	ch <- prometheus.MustNewConstMetric(flowsDroppedDesc, prometheus.CounterValue, float64(m.queue.dropped.Load()))
}
