package ringbuffer

import "context"

// Wait blocks until the entry with sequence number seq has been written,
// that is until Head() > seq, and returns nil; or returns ctx.Err() if ctx
// ends first.
//
// A waiter takes the shared notify channel (installing one if there is none)
// and only then re-reads head; the writer stores head and only then takes the
// channel away and closes it. With sequentially consistent atomics either the
// waiter sees the new head or the writer sees, and closes, the waiter's
// channel, so no wake-up is lost.
func (r *Ring[T]) Wait(ctx context.Context, seq uint64) error {
	for r.head.Load() <= seq {
		ch := r.waitChan()
		if r.head.Load() > seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// waitChan returns the channel the next write closes.
func (r *Ring[T]) waitChan() chan struct{} {
	for {
		if p := r.notify.Load(); p != nil {
			return *p
		}
		ch := make(chan struct{})
		if r.notify.CompareAndSwap(nil, &ch) {
			return ch
		}
	}
}

// wake releases every goroutine blocked in Wait.
func (r *Ring[T]) wake() {
	if p := r.notify.Swap(nil); p != nil {
		close(*p)
	}
}
