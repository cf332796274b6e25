package export

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/ringbuffer"
)

// Manager runs an agent's exporters, each a ring follower, by name.
type Manager struct {
	ring   *ringbuffer.Ring[record.Record]
	node   *flowview.Node
	log    *slog.Logger
	notify Notify
	now    func() time.Time

	mu      sync.Mutex
	ctx     context.Context // Run's; nil before Run
	entries map[string]*entry
	// statuses holds every exporter's counts, removed ones' too, so their
	// counters never go back.
	statuses map[string]*Status
	wg       sync.WaitGroup
}

// entry is one exporter, running or not.
type entry struct {
	name string
	// spec describes a file log; dynamic ones come from SetLogs.
	spec    *Spec
	dynamic bool
	compiled
	newSink func(*Status) Sink
	status  *Status
	cancel  context.CancelCauseFunc // nil until started
	done    chan struct{}           // closed once stopped and its sink closed
}

// Option configures a Manager.
type Option func(*Manager)

// WithLogger sets where exporters log.
func WithLogger(log *slog.Logger) Option { return func(m *Manager) { m.log = log } }

// WithNotify sets how exporters publish agent events about themselves.
func WithNotify(n Notify) Option { return func(m *Manager) { m.notify = n } }

// NewManager returns a Manager of exporters following ring, whose records
// were observed on node.
func NewManager(ring *ringbuffer.Ring[record.Record], node *flowview.Node, opts ...Option) *Manager {
	m := &Manager{
		ring: ring, node: node, log: slog.New(slog.DiscardHandler), notify: func(string, string) {}, now: time.Now,
		entries: map[string]*entry{}, statuses: map[string]*Status{},
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// AddLog adds the file log spec describes, for the agent's lifetime; it
// starts with Run, or at once if Run is running.
func (m *Manager) AddLog(spec Spec) error {
	c, err := spec.compile()
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.entries[spec.Name]; ok {
		return fmt.Errorf("add flow log %q: the name is taken", spec.Name)
	}
	m.addLocked(m.fileEntry(&spec, c, false))
	return nil
}

// fileEntry returns the exporter of a file log.
func (m *Manager) fileEntry(spec *Spec, c compiled, dynamic bool) *entry {
	opts, nodeName := spec.fileOptions(), m.node.AbsoluteName()
	return &entry{
		name: spec.Name, spec: spec, dynamic: dynamic, compiled: c,
		newSink: func(st *Status) Sink { return newFileSink(spec.FilePath, opts, nodeName, st) },
	}
}

// addLocked registers e and starts it if Run is running.
func (m *Manager) addLocked(e *entry) {
	m.entries[e.name] = e
	if m.ctx != nil {
		m.startLocked(e)
	}
}

// Run starts the exporters added so far, runs those added later, and
// stops them all, their sinks closed, when ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	m.ctx = ctx
	for _, e := range m.entries {
		m.startLocked(e)
	}
	m.mu.Unlock()
	<-ctx.Done()
	m.mu.Lock()
	m.ctx = nil // what is added from now on is not started
	m.mu.Unlock()
	m.wg.Wait()
	return nil
}

// startLocked starts e's follower at the ring's head.
func (m *Manager) startLocked(e *entry) {
	st, ok := m.statuses[e.name]
	if !ok {
		st = newStatus(e.name, m.log, m.notify, m.now)
		m.statuses[e.name] = st
	}
	e.status = st
	ctx, cancel := context.WithCancelCause(m.ctx)
	e.cancel, e.done = cancel, make(chan struct{})
	f := &follower{
		ring: m.ring, node: m.node, filter: e.filter, mask: e.mask,
		sink: e.newSink(st), status: st, now: m.now, start: m.ring.Head(),
	}
	if e.spec != nil && e.spec.End != nil {
		f.end = *e.spec.End
	}
	m.log.Info("flow export started", "exporter", e.name)
	done := e.done
	m.wg.Go(func() {
		defer close(done)
		f.run(ctx)
		if err := f.sink.Close(); err != nil {
			m.log.Warn("cannot close flow export", "exporter", e.name, "err", err)
		}
		m.log.Info("flow export stopped", "exporter", e.name, "ended", f.ended(m.now()))
	})
}

// stopLocked stops e for why and waits until its sink is closed, so that
// a log replacing it on the same file starts after it.
func (m *Manager) stopLocked(e *entry, why error) {
	if e.cancel == nil {
		return
	}
	e.cancel(why)
	<-e.done
}
