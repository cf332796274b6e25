package relay

import (
	"context"
	"sync"
	"time"
)

// merger sends the responses of many time-ordered node calls as one
// time-ordered stream. A response is sent once it is the oldest buffered
// and every active call has a response buffered (so none can deliver an
// older one), or once it has waited the drain timeout (a quiet node), or
// when the buffer is full. Node calls hand responses over in batches
// (callQueue); each call's responses are kept in order (order) and the
// calls in a heap by their oldest response, a k-way merge.
type merger struct {
	send    func(any) error
	bufLen  int
	drain   time.Duration
	now     func() time.Time
	metrics *Metrics

	// ctrl carries the relay's own node_status events, sent as they come;
	// the fan-out closes it when a bounded request is complete.
	ctrl chan any
	// wake has a token when a queue was marked since the last visit.
	wake chan struct{}

	mu    sync.Mutex
	dirty []*callQueue // queues to visit

	// The rest belongs to the merger's goroutine.
	taken    []*callQueue // the list visited before, recycled
	heads    callHeap
	active   int // calls registered and not ended
	ready    int // active calls with a buffered response
	buffered int
	seq      uint64
}

// ctrlLen bounds node_status events waiting to be sent.
const ctrlLen = 64

func newMerger(bufLen int, drain time.Duration, metrics *Metrics, send func(any) error) *merger {
	return &merger{
		send:    send,
		bufLen:  bufLen,
		drain:   drain,
		now:     time.Now,
		metrics: metrics,
		ctrl:    make(chan any, ctrlLen),
		wake:    make(chan struct{}, 1),
	}
}

// status queues one of the relay's own responses, sent ahead of any
// buffered flow; it is false if ctx ended first.
func (m *merger) status(ctx context.Context, msg any) bool {
	select {
	case m.ctrl <- msg:
		return true
	case <-ctx.Done():
		return false
	}
}

// close says a bounded request is complete: every call ended.
func (m *merger) close() { close(m.ctrl) }

// run merges until close (then flushes) or until ctx ends; it returns the
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
		if len(m.heads) > 0 {
			timer.Reset(max(time.Duration(m.heads[0].front().due-now.UnixNano()), 0))
			wake = timer.C
		}
		closed := false
		select {
		case msg, ok := <-m.ctrl:
			if !ok {
				closed = true
				break
			}
			if err := m.send(msg); err != nil {
				return err
			}
		case <-m.wake:
		case <-wake:
		case <-ctx.Done():
			return nil
		}
		// One clock read serves every response taken in this visit:
		// reading the clock per response was a measurable share of the
		// merge's CPU.
		now = m.now()
		m.take(now)
		// Events the fan-out queued before a call it then started hand over
		// are in ctrl by now: send them before that call's responses.
		for !closed {
			select {
			case msg, ok := <-m.ctrl:
				if !ok {
					closed = true
					continue
				}
				if err := m.send(msg); err != nil {
					return err
				}
				continue
			default:
			}
			break
		}
		if closed {
			// Every call ended before ctrl closed: one more visit sees all.
			m.take(now)
			return m.flush()
		}
	}
}

// take visits the queues marked since the last visit, moving their
// responses into the merge.
func (m *merger) take(now time.Time) {
	m.mu.Lock()
	visit := m.dirty
	m.dirty = m.taken[:0]
	m.mu.Unlock()
	due := now.Add(m.drain).UnixNano()
	for i, q := range visit {
		visit[i] = nil
		q.mu.Lock()
		in, ended := q.in, q.ended
		q.in, q.dirty = q.spare, false
		q.mu.Unlock()
		if len(in) >= queueLen {
			select {
			case q.space <- struct{}{}:
			default:
			}
		}
		if !q.known {
			q.known = true
			m.active++
		}
		for _, it := range in {
			m.seq++
			it.due, it.seq = due, m.seq
			m.insert(q, it)
		}
		clear(in)
		q.spare = in[:0]
		if ended && !q.done {
			q.done = true
			m.active--
			if q.len() > 0 {
				m.ready--
			}
		}
	}
	m.taken = visit[:0]
}

func (m *merger) insert(q *callQueue, it item) {
	m.buffered++
	if q.len() == 0 {
		q.insert(it)
		m.heads.push(q)
		if !q.done {
			m.ready++
		}
		return
	}
	if q.insert(it) {
		m.heads.up(q.idx)
	}
}

// emit sends every response that is safe to send at now, counting those
// sent before every node could deliver older ones.
func (m *merger) emit(now time.Time) error {
	sent, full, drained := 0, 0, 0
	defer func() {
		m.metrics.forwarded.Add(uint64(sent))
		m.metrics.forcedFull.Add(uint64(full))
		m.metrics.forcedDrain.Add(uint64(drained))
	}()
	deadline := now.UnixNano()
	for len(m.heads) > 0 {
		switch {
		case m.ready == m.active:
		case m.buffered >= m.bufLen:
			full++
		case m.heads[0].front().due <= deadline:
			drained++
		default:
			return nil
		}
		if err := m.pop(); err != nil {
			return err
		}
		sent++
	}
	return nil
}

func (m *merger) pop() error {
	q := m.heads[0]
	it := q.pop()
	m.buffered--
	if q.len() == 0 {
		m.heads.removeTop()
		if !q.done {
			m.ready--
		}
	} else {
		m.heads.down(0)
	}
	return m.send(it.msg)
}

func (m *merger) flush() error {
	sent := 0
	defer func() { m.metrics.forwarded.Add(uint64(sent)) }()
	for len(m.heads) > 0 {
		if err := m.pop(); err != nil {
			return err
		}
		sent++
	}
	return nil
}
