package flowmetrics

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
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
	limit   int
	series  map[string]*series
	// dropped counts updates refused because they would have created a
	// series over limit; expired counts series deleted for their age.
	dropped, expired uint64
}

// series is one label set's count. Its values share the memory of its key.
type series struct {
	values []string
	count  uint64
	last   int64 // Unix nanoseconds of the last update
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

// inc counts one in the series key names, creating it if the limit allows.
func (s *store) inc(key []byte, now int64) { s.add(key, 1, now) }

// add counts n in the series key names, creating it if the limit allows.
func (s *store) add(key []byte, n uint64, now int64) {
	if se, ok := s.series[string(key)]; ok {
		se.count += n
		se.last = now
		return
	}
	if len(s.series) >= s.limit {
		s.dropped++
		return
	}
	k := string(key)
	s.series[k] = &series{values: decodeKey(k), count: n, last: now}
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
