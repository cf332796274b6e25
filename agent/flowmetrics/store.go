package flowmetrics

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// store holds the series of one metric. It is written by the goroutine
// that runs the handlers and read by scrapes, both under Metrics.mu.
type store struct {
	name   string
	labels []string
	// sorted are the indexes of labels in the order of their names, in
	// which a scrape lists them.
	sorted []int
	desc   *prometheus.Desc
	// expires is set for a metric whose labels name endpoints or DNS
	// queries: its series are deleted ttl after their last update.
	expires bool
	// bounds, set for a histogram, are its buckets' ascending upper
	// bounds (+Inf implied); a histogram's series count observations.
	bounds []float64
	limit  int
	series map[string]*series
	// dropped counts updates refused because they would have created a
	// series over limit; expired counts series deleted for their age.
	dropped, expired uint64
}

// series is one label set's count. Its values share the memory of its key.
type series struct {
	values []string
	count  uint64
	last   int64 // Unix nanoseconds of the last update
	// buckets (per bound, not cumulative) and sum of a histogram's
	// observations.
	buckets []uint64
	sum     float64
}

func newStore(name, help string, labels []string, expires bool, limit int) *store {
	sorted := make([]int, len(labels))
	for i := range sorted {
		sorted[i] = i
	}
	slices.SortFunc(sorted, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	return &store{
		name:    name,
		labels:  labels,
		sorted:  sorted,
		desc:    prometheus.NewDesc(name, help, labels, nil),
		expires: expires,
		limit:   limit,
		series:  make(map[string]*series),
	}
}

// newHistogramStore returns the store of a histogram with these bucket
// bounds.
func newHistogramStore(name, help string, labels []string, bounds []float64, expires bool, limit int) *store {
	s := newStore(name, help, labels, expires, limit)
	s.bounds = bounds
	return s
}

// inc counts one in the series key names, creating it if the limit allows.
func (s *store) inc(key []byte, now int64) { s.add(key, 1, now) }

// add counts n in the series key names, creating it if the limit allows.
func (s *store) add(key []byte, n uint64, now int64) {
	if se := s.get(key, now); se != nil {
		se.count += n
	}
}

// observe adds v to the histogram series key names, creating it if the
// limit allows.
func (s *store) observe(key []byte, v float64, now int64) {
	se := s.get(key, now)
	if se == nil {
		return
	}
	se.count++
	se.sum += v
	for i, b := range s.bounds {
		if v <= b {
			se.buckets[i]++
			break
		}
	}
}

// get returns the series key names, updated now, creating it if the limit
// allows; nil (counted as dropped) if it does not.
func (s *store) get(key []byte, now int64) *series {
	if se, ok := s.series[string(key)]; ok {
		se.last = now
		return se
	}
	if len(s.series) >= s.limit {
		s.dropped++
		return nil
	}
	k := string(key)
	se := &series{values: decodeKey(k), last: now}
	if s.bounds != nil {
		se.buckets = make([]uint64, len(s.bounds))
	}
	s.series[k] = se
	return se
}

// histogram returns se's histogram as a scrape writes it, with cumulative
// buckets.
func (s *store) histogram(se *series) *dto.Histogram {
	h := &dto.Histogram{Bucket: make([]*dto.Bucket, len(s.bounds))}
	count, sum := se.count, se.sum
	h.SampleCount, h.SampleSum = &count, &sum
	cum := make([]uint64, len(s.bounds))
	var n uint64
	for i := range s.bounds {
		n += se.buckets[i]
		cum[i] = n
		h.Bucket[i] = &dto.Bucket{UpperBound: &s.bounds[i], CumulativeCount: &cum[i]}
	}
	return h
}

// expire deletes the series not updated since before deadline, if the
// metric's series expire.
func (s *store) expire(deadline int64) {
	if !s.expires {
		return
	}
	for k, se := range s.series {
		if se.last < deadline {
			delete(s.series, k)
			s.expired++
		}
	}
}
