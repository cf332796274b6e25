package intern

import (
	"sync"
	"sync/atomic"
)

// Ref names an interned value. The zero Ref means "none".
type Ref uint32

const chunkBits = 10

type chunk[T any] [1 << chunkBits]T

// Table interns values of type T under string keys. Values must be treated
// as immutable once interned: readers share them without copying.
type Table[T any] struct {
	mu    sync.Mutex // serialises Intern
	index map[string]Ref
	// chunks never move once allocated, so a Ref stays valid while the
	// directory grows; readers load the directory atomically.
	dir atomic.Pointer[[]*chunk[T]]
	n   atomic.Uint32
}

// NewTable returns an empty table.
func NewTable[T any]() *Table[T] {
	t := &Table[T]{index: make(map[string]Ref)}
	t.dir.Store(&[]*chunk[T]{})
	return t
}

// Intern returns the Ref of the value stored under key, storing newValue() under
// it first if the key is new. newValue runs at most once per key.
func (t *Table[T]) Intern(key string, newValue func() T) Ref {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ref, ok := t.index[key]; ok {
		return ref
	}
	i := t.n.Load() // slot index; Ref is index+1 so that zero means none
	dir := *t.dir.Load()
	if int(i>>chunkBits) == len(dir) {
		grown := grow(dir)
		t.dir.Store(&grown)
		dir = grown
	}
	dir[i>>chunkBits][i&(1<<chunkBits-1)] = newValue()
	ref := Ref(i + 1)
	t.index[key] = ref
	t.n.Store(i + 1)
	return ref
}

func grow[T any](dir []*chunk[T]) []*chunk[T] {
	grown := append(make([]*chunk[T], 0, len(dir)+1), dir...)
	return append(grown, new(chunk[T]))
}

// Lookup returns the Ref stored under key, if any.
func (t *Table[T]) Lookup(key string) (Ref, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ref, ok := t.index[key]
	return ref, ok
}

// Get returns the value behind ref, or the zero T for the zero Ref or a Ref
// this table never issued.
func (t *Table[T]) Get(ref Ref) T {
	var zero T
	if ref == 0 || uint32(ref) > t.n.Load() {
		return zero
	}
	i := uint32(ref) - 1
	return (*t.dir.Load())[i>>chunkBits][i&(1<<chunkBits-1)]
}

// Len returns the number of interned values.
func (t *Table[T]) Len() int { return int(t.n.Load()) }
