package flowmetrics

import (
	"sync/atomic"

	"github.com/foveanet/fovea/model/record"
)

// queue is a bounded single-producer, single-consumer queue of records:
// the pipeline's writer pushes, the handlers' goroutine pops. A push never
// waits: when the queue is full the record is dropped and counted.
type queue struct {
	slots []record.Record
	mask  uint64
	// head is the next slot to pop, tail the next to push; each is written
	// by one side only.
	head, tail atomic.Uint64
	dropped    atomic.Uint64
	// wake holds a token when records may be waiting, so the consumer
	// sleeps on it instead of polling.
	wake chan struct{}
}

// newQueue returns a queue of size slots, rounded up to a power of two.
func newQueue(size int) *queue {
	n := 1
	for n < size {
		n <<= 1
	}
	return &queue{slots: make([]record.Record, n), mask: uint64(n - 1), wake: make(chan struct{}, 1)}
}

// push copies r into the queue, or counts it dropped if the queue is full.
func (q *queue) push(r *record.Record) {
	t := q.tail.Load()
	if t-q.head.Load() == uint64(len(q.slots)) {
		q.dropped.Add(1)
		return
	}
	q.slots[t&q.mask] = *r
	q.tail.Store(t + 1)
	// Only a token in an empty channel wakes the consumer; a full one is
	// a lock-free check.
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pop copies up to len(dst) records out of the queue and returns how many.
func (q *queue) pop(dst []record.Record) int {
	h, t := q.head.Load(), q.tail.Load()
	n := min(int(t-h), len(dst))
	for i := range n {
		dst[i] = q.slots[(h+uint64(i))&q.mask]
	}
	q.head.Store(h + uint64(n))
	return n
}
