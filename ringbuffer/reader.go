package ringbuffer

import "context"

// Reader reads a ring forward from a starting sequence number. It is not
// safe for concurrent use; give each reading goroutine its own.
type Reader[T any] struct {
	ring *Ring[T]
	next uint64
	// lost counts entries skipped since the last entry returned.
	lost uint64
}

// NewReader returns a Reader whose first entry is the one with sequence
// number seq (or the oldest one still readable, if seq is gone).
func (r *Ring[T]) NewReader(seq uint64) *Reader[T] {
	return &Reader[T]{ring: r, next: seq}
}

// Next copies the reader's next entry into *dst and returns its sequence
// number. If the writer overtook the reader, Next resumes at the oldest
// readable entry and lost reports how many entries it skipped to get there,
// so that the sequence numbers returned plus the losses reported account for
// every entry exactly once.
//
// When the reader has caught up, Next returns ErrNotWritten if follow is
// false, or waits for the next write if follow is true, returning ctx.Err()
// if ctx ends first.
func (rd *Reader[T]) Next(ctx context.Context, dst *T, follow bool) (seq, lost uint64, err error) {
	for {
		switch err := rd.ring.Read(rd.next, dst); err {
		case nil:
			seq, lost = rd.next, rd.lost
			rd.next, rd.lost = seq+1, 0
			return seq, lost, nil
		case ErrOverwritten:
			// Tail is past rd.next here: Read saw head beyond
			// rd.next+Cap, or saw the slot claimed by write
			// rd.next+Cap+1, which starts only after head reached it.
			tail := rd.ring.Tail()
			rd.lost += tail - rd.next
			rd.next = tail
		default:
			if !follow {
				return 0, 0, err
			}
			if err := rd.ring.Wait(ctx, rd.next); err != nil {
				return 0, 0, err
			}
		}
	}
}
