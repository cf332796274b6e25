package flowmetrics

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

// Defaults of the options.
const (
	DefaultSeriesTTL   = 5 * time.Minute
	DefaultSeriesLimit = 10000
	// DefaultQueueSize records (416 KiB) absorb a burst of about 40 ms
	// at 100k flows a second while the handlers' goroutine is descheduled.
	DefaultQueueSize = 4096
)

// batchSize is how many records the handlers count per lock of the series.
const batchSize = 64

// Metrics counts the flows of one agent into Hubble's flow metrics.
type Metrics struct {
	node  *flowview.Node
	ttl   time.Duration
	limit int
	now   func() time.Time
	queue *queue
	lost  lostEvents
	// active is false when no handler is enabled: records are not queued.
	active atomic.Bool

	// mu guards the handlers, their state and series against scrapes and
	// Apply.
	mu       sync.Mutex
	handlers []handler
	configs  []MetricConfig // what each handler was compiled from
	// retina are the handlers of Retina's series, compiled from
	// retinaConfig.
	retina       []handler
	retinaConfig RetinaConfig
	// stores are every handler's, Hubble's first; retinaFrom is where
	// Retina's start.
	stores     []*store
	retinaFrom int
	// histograms are Retina's handlers'.
	histograms []*histogram
	// retinaNode is what Retina's handlers know of the node.
	retinaNode retinaNode
	ev         event // the handlers' goroutine's view, reused
}

// Option configures New.
type Option func(*Metrics)

// WithSeriesTTL sets how long a series naming endpoints or DNS queries
// lives after its last flow.
func WithSeriesTTL(d time.Duration) Option { return func(m *Metrics) { m.ttl = d } }

// WithSeriesLimit sets the most series one metric holds.
func WithSeriesLimit(n int) Option { return func(m *Metrics) { m.limit = n } }

// WithQueueSize sets how many records wait for the handlers at most.
func WithQueueSize(n int) Option { return func(m *Metrics) { m.queue = newQueue(n) } }

// WithAPIServerAddrs names the API server's addresses, for Retina's
// adv_node_apiserver_* series; those the endpoints index labels
// reserved:kube-apiserver count too.
func WithAPIServerAddrs(addrs []netip.Addr) Option {
	return func(m *Metrics) { m.retinaNode.apiServer = addrs }
}

// WithObservedPods tells which pods carry Retina's annotation
// retina.sh: observe, themselves or through their namespace, for a retina
// section that selects pods by annotation. It is called on the handlers'
// goroutine, once per counted flow of a pod.
func WithObservedPods(observed func(namespace, pod string) bool) Option {
	return func(m *Metrics) { m.retinaNode.observed = observed }
}

// WithClock sets the clock series' ages are measured with (tests).
func WithClock(now func() time.Time) Option { return func(m *Metrics) { m.now = now } }

// WithLostEvents adds what read returns to the lost events of source: for
// losses counted outside the records the pipeline sees.
func WithLostEvents(source flowpb.LostEventSource, read func() uint64) Option {
	return func(m *Metrics) {
		if int(source) < len(m.lost.readers) {
			m.lost.readers[source] = append(m.lost.readers[source], read)
		}
	}
}

// New returns the metrics cfg enables over the flows of node, whose tables
// resolve the records' references.
func New(cfg Config, node *flowview.Node, opts ...Option) (*Metrics, error) {
	m := &Metrics{
		node: node,
		ttl:  DefaultSeriesTTL, limit: DefaultSeriesLimit, now: time.Now,
	}
	for _, o := range opts {
		o(m)
	}
	if m.queue == nil {
		m.queue = newQueue(DefaultQueueSize)
	}
	if m.ttl <= 0 || m.limit <= 0 {
		return nil, fmt.Errorf("create flow metrics: series TTL %v and limit %d must be positive", m.ttl, m.limit)
	}
	if err := m.Apply(cfg); err != nil {
		return nil, err
	}
	return m, nil
}

// Apply replaces the handlers with those cfg enables, or returns why it
// cannot and keeps them. A handler cfg enables as it was keeps its series;
// one removed takes its series out of the next scrape, and one whose
// options or filters changed starts anew, since its labels may have.
func (m *Metrics) Apply(cfg Config) error {
	hs, err := compile(cfg, m.limit)
	if err != nil {
		return err
	}
	rs, err := compileRetina(cfg.Retina, m.limit, m.retinaNode)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, c := range cfg.Metrics {
		if j := slices.IndexFunc(m.configs, c.equal); j >= 0 {
			hs[i] = m.handlers[j]
		}
	}
	if cfg.Retina.equal(m.retinaConfig) {
		rs = m.retina
	}
	m.handlers, m.configs, m.stores = hs, slices.Clone(cfg.Metrics), nil
	m.retina, m.retinaConfig = rs, cfg.Retina
	for _, h := range hs {
		m.stores = append(m.stores, h.stores()...)
	}
	m.retinaFrom = len(m.stores)
	m.histograms = nil
	for _, h := range rs {
		m.stores = append(m.stores, h.stores()...)
		if hg, ok := h.(histogrammer); ok {
			m.histograms = append(m.histograms, hg.histograms()...)
		}
	}
	m.active.Store(len(hs)+len(rs) > 0)
	return nil
}

// Observe hands r to the handlers. It is called by the pipeline's single
// writer, never blocks and does not retain r: when the handlers fall behind
// by the queue's size, r is dropped and counted.
func (m *Metrics) Observe(r *record.Record) {
	if r.Kind == record.KindLost {
		m.lost.record(r.LostSource, r.Count)
		return
	}
	if m.active.Load() {
		m.queue.push(r)
	}
}

// Run counts the queued records until ctx ends, and deletes expired series
// even when nothing scrapes them. It runs even without handlers, since
// Apply may enable some.
func (m *Metrics) Run(ctx context.Context) error {
	// Scrapes expire series exactly; this bounds memory between them.
	sweep := time.NewTicker(min(m.ttl/4, 30*time.Second))
	defer sweep.Stop()
	batch := make([]record.Record, batchSize)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-m.queue.wake:
			for n := m.queue.pop(batch); n > 0; n = m.queue.pop(batch) {
				m.count(batch[:n])
			}
		case <-sweep.C:
			m.mu.Lock()
			m.expireLocked()
			m.mu.Unlock()
		}
	}
}

// count runs the handlers on records.
func (m *Metrics) count(records []record.Record) {
	now := m.now().UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range records {
		ev := &m.ev
		ev.Reset(m.node, &records[i], 0)
		l7 := ev.L7()
		ev.dns, ev.http = l7.GetDns(), l7.GetHttp()
		ev.dir = flowview.Direction(&ev.Rec)
		ev.now = now
		for _, h := range m.handlers {
			h.observe(ev)
		}
		for _, h := range m.retina {
			h.observe(ev)
		}
	}
}

// expireLocked deletes the series whose TTL has passed.
func (m *Metrics) expireLocked() {
	deadline := m.now().Add(-m.ttl).UnixNano()
	for _, s := range m.stores {
		s.expire(deadline)
	}
}
