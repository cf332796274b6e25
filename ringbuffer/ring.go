package ringbuffer

import (
	"errors"
	"sync/atomic"
)

var (
	// ErrOverwritten reports that the entry asked for is gone: the writer
	// has overwritten it, possibly while it was being read.
	ErrOverwritten = errors.New("ringbuffer: entry overwritten")
	// ErrNotWritten reports that the entry asked for has not been written yet.
	ErrNotWritten = errors.New("ringbuffer: entry not written yet")
)

// cacheLine separates the fields the writer changes on every write from those
// readers and waiters change, so they do not slow each other down.
const cacheLine = 64

// slot holds one entry and the sequence number of the write that last began
// storing into it.
type slot[T any] struct {
	seq atomic.Uint64
	val T
}

// Ring is a fixed-capacity ring of T values with a single writer and any
// number of concurrent readers. Create it with New.
type Ring[T any] struct {
	// slots has capacity+1 entries: the one after the newest is the one the
	// next write overwrites, so every readable entry stays intact until a
	// write makes it the oldest lost one.
	slots []slot[T]
	mask  uint64

	_ [cacheLine]byte
	// head is the sequence number of the next write. Only Write stores it,
	// after the entry is complete, so that entries below head are readable.
	head atomic.Uint64

	_ [cacheLine - 8]byte
	// notify is the channel waiters block on, or nil when nobody waits.
	// Waiters install it; the writer removes and closes it.
	notify atomic.Pointer[chan struct{}]
	_      [cacheLine - 8]byte
}

// New returns an empty ring holding up to capacity entries. Capacity must be
// one less than a power of two, between 1 and MaxCapacity; T must hold no
// pointers and its size must be a positive multiple of eight bytes.
func New[T any](capacity int) (*Ring[T], error) {
	if err := checkCapacity(capacity); err != nil {
		return nil, err
	}
	if err := checkElem[T](); err != nil {
		return nil, err
	}
	return &Ring[T]{
		slots: make([]slot[T], capacity+1),
		mask:  uint64(capacity),
	}, nil
}

// Cap returns the number of entries the ring holds when full.
func (r *Ring[T]) Cap() uint64 { return r.mask }

// Len returns the number of entries currently readable.
func (r *Ring[T]) Len() uint64 { return min(r.head.Load(), r.mask) }

// Head returns the sequence number the next write gets, which is also the
// number of entries written so far.
func (r *Ring[T]) Head() uint64 { return r.head.Load() }

// Tail returns the sequence number of the oldest readable entry; it equals
// Head when the ring is empty. Entries below Tail have been overwritten.
func (r *Ring[T]) Tail() uint64 {
	head := r.head.Load()
	return head - min(head, r.mask)
}

// Write copies *v into the ring, overwriting the oldest entry when the ring
// is full, and returns the sequence number it was stored under. Only one
// goroutine may write. v must not be nil.
func (r *Ring[T]) Write(v *T) uint64 {
	seq := r.head.Load()
	s := &r.slots[seq&r.mask]
	// Announce the overwrite before touching the value: a reader that
	// copies any part of it then sees the slot's sequence number change.
	markSlot(&s.seq, seq)
	storeEntry(&s.val, v)
	r.head.Store(seq + 1)
	if r.notify.Load() != nil {
		r.wake()
	}
	return seq
}

// Next returns the entry the next Write overwrites, or nil while the ring
// still has room, so the writer can let go of what the entry refers to.
// Only the writer may call it, and the entry must not be modified.
func (r *Ring[T]) Next() *T {
	seq := r.head.Load()
	if seq <= r.mask {
		return nil
	}
	return &r.slots[seq&r.mask].val
}

// Read copies the entry with sequence number seq into *dst. It returns
// ErrNotWritten if seq is at or beyond Head and ErrOverwritten if the entry
// is gone, including when the writer overwrote it during the copy; *dst is
// then unspecified.
func (r *Ring[T]) Read(seq uint64, dst *T) error {
	head := r.head.Load()
	if seq >= head {
		return ErrNotWritten
	}
	if head-seq > r.mask {
		return ErrOverwritten
	}
	s := &r.slots[seq&r.mask]
	if s.seq.Load() != seq {
		return ErrOverwritten
	}
	loadEntry(dst, &s.val)
	// A write that began during the copy has already announced itself.
	if s.seq.Load() != seq {
		return ErrOverwritten
	}
	return nil
}
