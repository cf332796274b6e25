package observer

import (
	"sync"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// AgentEvent is one published agent event with its sequence number.
type AgentEvent struct {
	Seq   uint64
	Time  time.Time
	Event *flowpb.AgentEvent
}

// AgentEventSource holds recent agent events for GetAgentEvents.
type AgentEventSource interface {
	// Since returns the held events numbered seq or later, oldest first,
	// and a channel closed when a later event is published.
	Since(seq uint64) ([]AgentEvent, <-chan struct{})
}

// AgentEvents is an in-memory AgentEventSource keeping the latest events up
// to a fixed capacity; older ones are evicted.
type AgentEvents struct {
	now func() time.Time

	mu      sync.Mutex
	buf     []AgentEvent
	next    uint64
	changed chan struct{}
}

var _ AgentEventSource = (*AgentEvents)(nil)

// defaultAgentEventsCapacity keeps far more than an agent publishes between
// two reads: events are rare (start, stop, interface changes).
const defaultAgentEventsCapacity = 256

// AgentEventsOption configures AgentEvents.
type AgentEventsOption func(*AgentEvents)

// WithAgentEventsCapacity sets how many events are held (at least one).
func WithAgentEventsCapacity(n int) AgentEventsOption {
	return func(a *AgentEvents) { a.buf = make([]AgentEvent, 0, max(n, 1)) }
}

// WithAgentEventsClock replaces time.Now for timestamping events.
func WithAgentEventsClock(now func() time.Time) AgentEventsOption {
	return func(a *AgentEvents) { a.now = now }
}

// NewAgentEvents returns an empty AgentEvents.
func NewAgentEvents(opts ...AgentEventsOption) *AgentEvents {
	a := &AgentEvents{
		now:     time.Now,
		buf:     make([]AgentEvent, 0, defaultAgentEventsCapacity),
		changed: make(chan struct{}),
	}
	for _, opt := range opts {
		opt(a)
	}
	return a
}

// Publish records ev and wakes the streams waiting for events. ev must not be
// modified afterwards.
func (a *AgentEvents) Publish(ev *flowpb.AgentEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := AgentEvent{Seq: a.next, Time: a.now(), Event: ev}
	a.next++
	if len(a.buf) < cap(a.buf) {
		a.buf = append(a.buf, e)
	} else {
		copy(a.buf, a.buf[1:])
		a.buf[len(a.buf)-1] = e
	}
	close(a.changed)
	a.changed = make(chan struct{})
}

// Since implements AgentEventSource.
func (a *AgentEvents) Since(seq uint64) ([]AgentEvent, <-chan struct{}) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := 0
	for i < len(a.buf) && a.buf[i].Seq < seq {
		i++
	}
	return append([]AgentEvent(nil), a.buf[i:]...), a.changed
}
