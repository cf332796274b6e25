package ringbuffer

import "iter"

// All yields the entries readable when it starts, oldest first, with their
// sequence numbers. Each entry is a consistent copy, valid until the next
// one is yielded; entries the writer overwrites before they are reached are
// skipped, and entries written after the scan began are not visited. It
// reads like any reader and never delays the writer.
func (r *Ring[T]) All() iter.Seq2[uint64, *T] {
	return func(yield func(uint64, *T) bool) {
		var v T
		head := r.head.Load()
		for seq := head - min(head, r.mask); seq < head; seq++ {
			if err := r.Read(seq, &v); err != nil {
				// Overwritten: resume at the oldest entry still there.
				seq = max(seq, r.Tail()) - 1
				continue
			}
			if !yield(seq, &v) {
				return
			}
		}
	}
}
