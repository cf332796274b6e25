package relay

import (
	"context"
	"time"
)

// itemKind says what a node stream or the fan-out reports to the merger.
type itemKind uint8

const (
	// kindResponse is a timestamped response (flow or lost event) to sort.
	kindResponse itemKind = iota
	// kindStatus is a node_status event, sent as soon as it arrives.
	kindStatus
	// kindStart says a node's stream began: the merger waits for it.
	kindStart
	// kindEnd says a node's stream ended.
	kindEnd
)

type item struct {
	kind itemKind
	// call identifies the node call a response came from: a node that
	// leaves and comes back gets a new call, which the merger must not
	// confuse with the old one.
	call uint64
	// msg is what is sent: a *rawResponse from a node, or the relay's own
	// *observerpb.GetFlowsResponse.
	msg any
	// at is the response's time; due is when it is sent even if some node
	// might still deliver an older one; seq keeps arrival order for ties.
	at, due time.Time
	seq     uint64
}

// merger sends the responses of many time-ordered node streams as one
// time-ordered stream. A response is sent once it is the oldest buffered
// and every streaming node has a response buffered (so none can deliver an
// older one), or once it has waited the drain timeout (a quiet node), or
// when the buffer is full; memory is bounded by the buffer whatever the
// number of nodes.
type merger struct {
	in     chan item
	send   func(any) error
	bufLen int
	drain  time.Duration
	now    func() time.Time

	buf     itemHeap
	seq     uint64
	active  map[uint64]bool
	pending map[uint64]int // buffered responses per call
	ready   int            // active calls with a buffered response
}

// inboxLen bounds responses in flight between node streams and the merger.
const inboxLen = 64

func newMerger(bufLen int, drain time.Duration, send func(any) error) *merger {
	return &merger{
		in:      make(chan item, inboxLen),
		send:    send,
		bufLen:  bufLen,
		drain:   drain,
		now:     time.Now,
		active:  map[uint64]bool{},
		pending: map[uint64]int{},
	}
}

// run merges until in is closed (then flushes) or ctx ends; it returns the
// first send error.
func (m *merger) run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	now := m.now()
	for {
		if err := m.emit(now); err != nil {
			return err
		}
		var wake <-chan time.Time
		if len(m.buf) > 0 {
			timer.Reset(max(m.buf[0].due.Sub(now), 0))
			wake = timer.C
		}
		select {
		case it, ok := <-m.in:
			// One clock read serves every item already waiting: reading the
			// clock per item was a measurable share of the merge's CPU.
			now = m.now()
			for {
				if !ok {
					return m.flush()
				}
				if err := m.handle(it, now); err != nil {
					return err
				}
				if len(m.buf) >= m.bufLen {
					break // emit before taking more: the buffer is the bound
				}
				select {
				case it, ok = <-m.in:
					continue
				default:
				}
				break
			}
		case <-wake:
			now = m.now()
		case <-ctx.Done():
			return nil
		}
	}
}

func (m *merger) handle(it item, now time.Time) error {
	switch it.kind {
	case kindStatus:
		return m.send(it.msg)
	case kindStart:
		if !m.active[it.call] {
			m.active[it.call] = true
			if m.pending[it.call] > 0 {
				m.ready++
			}
		}
	case kindEnd:
		if m.active[it.call] {
			delete(m.active, it.call)
			if m.pending[it.call] > 0 {
				m.ready--
			}
		}
	case kindResponse:
		// Waiting is counted from arrival, not from the response's time:
		// history requested with number or since is old, yet must be sorted.
		it.due = now.Add(m.drain)
		m.seq++
		it.seq = m.seq
		m.buf.push(it)
		m.pending[it.call]++
		if m.pending[it.call] == 1 && m.active[it.call] {
			m.ready++
		}
	}
	return nil
}

// emit sends every response that is safe to send at now.
func (m *merger) emit(now time.Time) error {
	for len(m.buf) > 0 {
		top := m.buf[0]
		safe := len(m.buf) >= m.bufLen || !top.due.After(now) || m.ready == len(m.active)
		if !safe {
			return nil
		}
		if err := m.pop(); err != nil {
			return err
		}
	}
	return nil
}

func (m *merger) pop() error {
	it := m.buf.pop()
	m.pending[it.call]--
	if m.pending[it.call] == 0 {
		delete(m.pending, it.call)
		if m.active[it.call] {
			m.ready--
		}
	}
	return m.send(it.msg)
}

func (m *merger) flush() error {
	for len(m.buf) > 0 {
		if err := m.pop(); err != nil {
			return err
		}
	}
	return nil
}

// itemHeap orders items oldest first, then by arrival. It is a binary heap
// written for item rather than container/heap, whose interface boxes each
// pushed and popped item in an allocation.
type itemHeap []item

func (h itemHeap) less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}

func (h *itemHeap) push(it item) {
	*h = append(*h, it)
	q := *h
	for j := len(q) - 1; j > 0; {
		i := (j - 1) / 2
		if !q.less(j, i) {
			break
		}
		q[i], q[j] = q[j], q[i]
		j = i
	}
}

func (h *itemHeap) pop() item {
	q := *h
	n := len(q) - 1
	top := q[0]
	q[0] = q[n]
	q[n] = item{}
	q = q[:n]
	for i := 0; ; {
		j := 2*i + 1
		if j >= n {
			break
		}
		if r := j + 1; r < n && q.less(r, j) {
			j = r
		}
		if !q.less(j, i) {
			break
		}
		q[i], q[j] = q[j], q[i]
		i = j
	}
	*h = q
	return top
}
