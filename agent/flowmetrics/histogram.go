package flowmetrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// histogram is one unlabelled histogram, written by the goroutine that runs
// the handlers and read by scrapes, both under Metrics.mu, like a store.
type histogram struct {
	desc   *prometheus.Desc
	bounds []float64 // upper bounds, ascending; +Inf is implicit
	counts []uint64  // observations per bound, not cumulative
	count  uint64
	sum    float64
}

func newHistogram(name, help string, bounds []float64) *histogram {
	return &histogram{
		desc:   prometheus.NewDesc(name, help, nil, nil),
		bounds: bounds,
		counts: make([]uint64, len(bounds)),
	}
}

func (h *histogram) observe(v float64) {
	for i, b := range h.bounds {
		if v <= b {
			h.counts[i]++
			break
		}
	}
	h.count++
	h.sum += v
}

// metric is the histogram as it is now, with cumulative buckets.
func (h *histogram) metric() prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.bounds))
	var n uint64
	for i, b := range h.bounds {
		n += h.counts[i]
		buckets[b] = n
	}
	return prometheus.MustNewConstHistogram(h.desc, h.count, h.sum, buckets)
}
