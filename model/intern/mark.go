package intern

import (
	"errors"
	"fmt"
)

// Mark is the set of one table's Refs a sweep found referenced. Take it with
// NewMark before enumerating what references the table: Refs issued after
// that are left alone by the sweep it feeds. Add is not safe for concurrent
// use.
type Mark struct {
	owner  any
	sweeps uint64
	n      uint32
	bits   []*bitset // per chunk; nil where the chunk was dropped
}

// Add marks ref as referenced. Refs the mark does not cover (zero, freed,
// issued after the mark was taken, of another table) are ignored.
func (m *Mark) Add(ref Ref) {
	if ref == 0 || uint32(ref) > m.n {
		return
	}
	i := uint32(ref) - 1
	if b := m.bits[i>>chunkBits]; b != nil {
		b.set(i)
	}
}

// NewMark returns an empty mark of the table's current Refs.
func (t *Table[T]) NewMark() *Mark {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := &Mark{owner: t, sweeps: t.sweeps, n: t.n.Load(), bits: make([]*bitset, len(t.meta))}
	for c, md := range t.meta {
		if md != nil {
			m.bits[c] = new(bitset)
		}
	}
	return m
}

// errStaleMark reports a mark taken before the table's last sweep.
var errStaleMark = errors.New("mark predates the last sweep")

// Sweep frees the values of m's Refs that this sweep and the previous one
// both found unreferenced, unless pinned or interned again in between, and
// drops the chunks left without values. The two rounds cover a Ref that was
// in flight when m was filled: handed out by Intern or read from a holder but
// not yet stored where the sweeper looks (a record about to enter the ring).
// By the next sweep it is stored, and marked. A chunk left with few values
// is retired: they move to the table's stragglers and its slot array is
// dropped. It returns how many values it freed.
func (t *Table[T]) Sweep(m *Mark) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m.owner != any(t) {
		return 0, errors.New("sweep table: mark belongs to another table")
	}
	if m.sweeps != t.sweeps {
		return 0, fmt.Errorf("sweep table: %w", errStaleMark)
	}
	t.sweeps++
	s := sweep[T]{t: t, dir: *t.dir.Load()}
	for c, marked := range m.bits {
		md := t.meta[c]
		if marked == nil || md == nil {
			continue
		}
		var free bitset
		for w := range chunkWords {
			issued := issuedMask(c, w, m.n)
			unmarked := issued &^ marked[w] &^ md.pinned[w] &^ md.freed[w]
			free[w] = unmarked & md.suspect[w]
			md.suspect[w] = md.suspect[w]&^issued | unmarked&^free[w]
			md.freed[w] |= free[w]
			n := popcount(free[w])
			md.live -= n
			s.freed += n
		}
		s.settle(c, md, &free)
	}
	s.publish()
	if s.freed > 0 {
		t.forgetKeys()
		t.live.Add(-int64(s.freed))
		t.freed.Add(uint64(s.freed))
	}
	return s.freed, nil
}

// forgetKeys deletes the keys of freed values, so that interning one again
// issues a new Ref, and rebuilds the index once it holds a quarter of its
// peak: deleting keys does not shrink a Go map.
func (t *Table[T]) forgetKeys() {
	for key, ref := range t.index {
		i := uint32(ref) - 1
		if md := t.meta[i>>chunkBits]; md == nil || md.freed.has(i) {
			delete(t.index, key)
		}
	}
	if t.peak > 1024 && len(t.index) < t.peak/4 {
		index := make(map[string]Ref, len(t.index))
		for key, ref := range t.index {
			index[key] = ref
		}
		t.index, t.peak = index, len(index)
	}
}
