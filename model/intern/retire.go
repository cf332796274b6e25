package intern

// retireLive is the most live values a chunk may keep and still be retired:
// moving them to the stragglers costs a map entry each, against a slot
// array of 1024 slots kept for them otherwise.
const retireLive = chunkSize / 32

// sweep is one Sweep's changes to a table, published together.
type sweep[T any] struct {
	t     *Table[T]
	dir   []*chunk[T]
	next  []*chunk[T] // copy-on-write of dir, made on the first change
	gone  []Ref       // stragglers freed
	moved []Ref       // values of the chunks retired, read from dir
	freed int
}

// settle applies to chunk c the freeing of the slots in free, already
// recorded in md: a chunk whose slots were all issued is dropped once none
// lives and retired once few do; the others get a copy with the freed slots
// zeroed. The last chunk may still receive new values: it stays.
func (s *sweep[T]) settle(c int, md *meta, free *bitset) {
	t := s.t
	full := uint64(c+1)*chunkSize <= uint64(t.n.Load())
	switch {
	case md.retired:
		s.gone = appendRefs(s.gone, c, free)
		if md.live == 0 {
			t.meta[c] = nil
		}
	case full && md.live == 0:
		s.set(c, nil)
		t.meta[c] = nil
		t.chunks.Add(-1)
	case full && md.live <= retireLive:
		var live bitset
		for w := range chunkWords {
			live[w] = ^md.freed[w]
		}
		s.moved = appendRefs(s.moved, c, &live)
		s.set(c, nil)
		md.retired = true
		t.chunks.Add(-1)
	case *free != bitset{}:
		copied := new(chunk[T])
		*copied = *s.dir[c]
		var zero T
		for w, f := range free {
			for ; f != 0; f &= f - 1 {
				copied[w*64+bitsTrailing(f)] = zero
			}
		}
		s.set(c, copied)
	}
}

// set replaces chunk c in the copy of the directory.
func (s *sweep[T]) set(c int, ch *chunk[T]) {
	if s.next == nil {
		s.next = append([]*chunk[T](nil), s.dir...)
	}
	s.next[c] = ch
}

// publish stores the stragglers, then the directory: a reader that finds a
// chunk retired finds its values among the stragglers. Copying the
// stragglers costs one map entry per straggler held, and only in sweeps that
// retire a chunk or free a straggler.
func (s *sweep[T]) publish() {
	t := s.t
	if len(s.gone) > 0 || len(s.moved) > 0 {
		old := *t.stragglers.Load()
		m := make(map[Ref]T, len(old)+len(s.moved)-len(s.gone))
		for ref, v := range old {
			m[ref] = v
		}
		for _, ref := range s.gone {
			delete(m, ref)
		}
		for _, ref := range s.moved {
			i := uint32(ref) - 1
			m[ref] = s.dir[i>>chunkBits][i&chunkMask]
		}
		t.stragglers.Store(&m)
	}
	if s.next != nil {
		t.dir.Store(&s.next)
	}
}

// appendRefs appends the Refs of chunk c's slots set in b.
func appendRefs(refs []Ref, c int, b *bitset) []Ref {
	for w, f := range b {
		for ; f != 0; f &= f - 1 {
			refs = append(refs, Ref(uint32(c)<<chunkBits+uint32(w*64+bitsTrailing(f))+1))
		}
	}
	return refs
}
