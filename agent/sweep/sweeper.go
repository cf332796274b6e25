package sweep

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/agent/periodic"
	"github.com/foveanet/fovea/model/intern"
)

// Sweeper periodically frees the values nothing references any more: it
// marks what its holders (the ring of records, the endpoints index, the DNS
// names cache, the datapath's interfaces) reference and sweeps the tables.
type Sweeper struct {
	tables   *intern.Tables
	holders  []intern.Holder
	interval time.Duration
	log      *slog.Logger
	duration prometheus.Histogram

	mu sync.Mutex // one sweep at a time: a mark is valid for one sweep
}

// Option customises a Sweeper.
type Option func(*Sweeper)

// WithInterval sets how often the sweeper runs (default 10s). A value is
// freed two to three intervals after its last reference is gone.
func WithInterval(d time.Duration) Option { return func(s *Sweeper) { s.interval = d } }

// WithLogger sets the logger.
func WithLogger(log *slog.Logger) Option { return func(s *Sweeper) { s.log = log } }

// New returns a sweeper of tables whose live Refs are those holders mark,
// plus pinned ones.
func New(tables *intern.Tables, holders []intern.Holder, opts ...Option) (*Sweeper, error) {
	s := &Sweeper{
		tables:   tables,
		holders:  holders,
		interval: 10 * time.Second,
		log:      slog.New(slog.DiscardHandler),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "intern_sweep_duration_seconds",
			Help:    "Time a sweep of the intern tables took: marking what the ring and the holders reference, then freeing the rest.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 8),
		}),
	}
	for _, opt := range opts {
		opt(s)
	}
	if s.interval <= 0 {
		return nil, fmt.Errorf("create intern sweeper: interval %v must be positive", s.interval)
	}
	return s, nil
}

// Collector returns the sweeps' metrics.
func (s *Sweeper) Collector() prometheus.Collector { return s.duration }

// Run sweeps every interval until ctx ends.
func (s *Sweeper) Run(ctx context.Context) error {
	return periodic.Run(ctx, s.interval, func() error {
		freed, err := s.Sweep()
		if err != nil {
			return err
		}
		if freed != (intern.TableStats{}) {
			s.log.Debug("freed unreferenced intern values", "endpoints", freed[0], "interfaces", freed[1], "services", freed[2], "names", freed[3])
		}
		return nil
	})
}

// Sweep marks and sweeps once, returning how many values each table freed.
func (s *Sweeper) Sweep() (intern.TableStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	m := s.tables.NewMarks()
	for _, h := range s.holders {
		h.MarkRefs(m)
	}
	freed, err := s.tables.Sweep(m)
	s.duration.Observe(time.Since(start).Seconds())
	return freed, err
}
