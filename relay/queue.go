package relay

import (
	"context"
	"sync"
)

// queueLen bounds the responses a node call hands over to the merger at
// once, and so the responses in flight per node call.
const queueLen = 32

// callQueue hands one node call's responses to the merger in batches. The
// call's goroutine appends under the queue's own lock, which only the merger
// also takes, once per visit; the merger takes everything appended since its
// last visit. Handing over one response per operation on a channel shared by
// every node made the nodes contend for it, more so the more nodes.
type callQueue struct {
	m *merger

	mu    sync.Mutex
	in    []item // handed over, not yet taken
	ended bool   // the call will hand over nothing more
	// dirty says the queue is on the merger's list of queues to visit.
	dirty bool
	// space wakes a call waiting for the merger to take a full batch.
	space chan struct{}

	// The rest belongs to the merger's goroutine.
	order
	spare []item // the batch taken before, recycled
	known bool   // the merger counts the call as active
	done  bool   // the merger saw the call end
	idx   int    // position in the merger's heap of calls, -1 when out
}

// newCall registers a node call with the merger, which from then on waits
// for its responses before sending younger ones, until the call ends.
func (m *merger) newCall() *callQueue {
	q := &callQueue{m: m, space: make(chan struct{}, 1), idx: -1, dirty: true}
	m.mark(q)
	return q
}

// put hands it over, waiting while a full batch is waiting for the merger;
// it is false if ctx ended first.
func (q *callQueue) put(ctx context.Context, it item) bool {
	q.mu.Lock()
	for len(q.in) >= queueLen {
		q.mu.Unlock()
		select {
		case <-q.space:
		case <-ctx.Done():
			return false
		}
		q.mu.Lock()
	}
	q.in = append(q.in, it)
	notify := !q.dirty
	q.dirty = true
	q.mu.Unlock()
	if notify {
		q.m.mark(q)
	}
	return true
}

// end says the call hands over nothing more.
func (q *callQueue) end() {
	q.mu.Lock()
	q.ended = true
	notify := !q.dirty
	q.dirty = true
	q.mu.Unlock()
	if notify {
		q.m.mark(q)
	}
}

// mark lists q for the merger's next visit and wakes the merger.
func (m *merger) mark(q *callQueue) {
	m.mu.Lock()
	m.dirty = append(m.dirty, q)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}
