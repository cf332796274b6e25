package flowmetrics

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// sample is a series' count as a scrape read it, written as the
// prometheus.Metric the registry gathers. A const metric would check,
// copy and sort the series' label values at every scrape, in two
// allocations per label; a sample's label pairs point at the series'
// values, checked when the series was made, in the order the store sorted
// its label names once.
type sample struct {
	st      *store
	se      *series
	value   float64
	labels  []*dto.LabelPair
	counter dto.Counter
	// hist is a histogram series' value, copied under the lock.
	hist *dto.Histogram
}

func (s *sample) Desc() *prometheus.Desc { return s.st.desc }

func (s *sample) Write(out *dto.Metric) error {
	out.Label = s.labels
	if s.hist != nil {
		out.Histogram = s.hist
		return nil
	}
	s.counter.Value = &s.value
	out.Counter = &s.counter
	return nil
}

// labelSamples sets the label pairs of samples, all in two allocations.
func labelSamples(samples []sample) {
	n := 0
	for i := range samples {
		n += len(samples[i].st.sorted)
	}
	pairs, ptrs := make([]dto.LabelPair, n), make([]*dto.LabelPair, n)
	for i := range samples {
		s := &samples[i]
		k := len(s.st.sorted)
		s.labels, ptrs = ptrs[:k:k], ptrs[k:]
		for j, l := range s.st.sorted {
			p := &pairs[j]
			p.Name, p.Value = &s.st.labels[l], &s.se.values[l]
			s.labels[j] = p
		}
		pairs = pairs[k:]
	}
}
