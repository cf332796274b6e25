package intern

import (
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
)

// Ref names an interned value. The zero Ref means "none". Refs are never
// reused: once its value is freed a Ref reads as the zero value for good.
type Ref uint32

const (
	chunkBits  = 10
	chunkSize  = 1 << chunkBits
	chunkMask  = chunkSize - 1
	chunkWords = chunkSize / 64
)

type chunk[T any] [chunkSize]T

// bitset has one bit per slot of a chunk.
type bitset [chunkWords]uint64

// meta is the sweep state of one chunk, guarded by Table.mu.
type meta struct {
	// freed slots read as zero; pinned ones are never freed; suspect ones
	// were found unreferenced by the last sweep and are freed by the next
	// one unless referenced again.
	freed, pinned, suspect bitset
	// live counts the chunk's issued slots not freed.
	live int
	// retired chunks moved their live values to the table's stragglers
	// and no longer hold a slot array.
	retired bool
}

// Table interns values of type T under string keys. Values must be treated
// as immutable once interned: readers share them without copying.
type Table[T any] struct {
	mu    sync.Mutex // serialises Intern, Pin, NewMark and Sweep
	index map[string]Ref
	// peak is the most keys index held since it was last rebuilt: Go maps
	// keep their storage when keys are deleted.
	peak int
	// meta parallels the directory; nil where the chunk was dropped. A
	// retired chunk keeps its meta until its last straggler is freed.
	meta []*meta
	// sweeps counts Sweep calls, so that a mark from before the last sweep
	// is refused.
	sweeps uint64
	// Chunks never change once published: Intern fills slots not yet
	// visible to readers, and Sweep publishes a copy with freed slots
	// zeroed (or nil when all are freed), so a reader never sees a value
	// half-written. Readers load the directory atomically.
	dir atomic.Pointer[[]*chunk[T]]
	// stragglers holds the live values of retired chunks. The map is never
	// modified once published: Sweep publishes a changed copy, before the
	// directory that stops holding the chunks it retires.
	stragglers atomic.Pointer[map[Ref]T]
	n          atomic.Uint32 // slots issued

	live, chunks     atomic.Int64
	freed, exhausted atomic.Uint64
}

// NewTable returns an empty table.
func NewTable[T any]() *Table[T] {
	t := &Table[T]{index: make(map[string]Ref)}
	t.dir.Store(&[]*chunk[T]{})
	t.stragglers.Store(&map[Ref]T{})
	return t
}

// Intern returns the Ref of the value stored under key, storing newValue() under
// it first if the key is new. newValue runs at most once per key while its
// value is held; once freed, the key gets a new Ref. Interning an existing key
// counts as a use, so its value survives the next sweep. Intern returns the
// zero Ref once 2^32-1 Refs have been issued, and counts it (Exhausted).
func (t *Table[T]) Intern(key string, newValue func() T) Ref {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ref, ok := t.index[key]; ok {
		i := uint32(ref) - 1
		t.meta[i>>chunkBits].suspect.clear(i)
		return ref
	}
	i := t.n.Load() // slot index; Ref is index+1 so that zero means none
	if i == math.MaxUint32 {
		t.exhausted.Add(1)
		return 0
	}
	dir := *t.dir.Load()
	if int(i>>chunkBits) == len(dir) {
		grown := grow(dir)
		t.dir.Store(&grown)
		dir = grown
		t.meta = append(t.meta, &meta{})
		t.chunks.Add(1)
	}
	dir[i>>chunkBits][i&chunkMask] = newValue()
	t.meta[i>>chunkBits].live++
	ref := Ref(i + 1)
	t.index[key] = ref
	t.peak = max(t.peak, len(t.index))
	t.n.Store(i + 1)
	t.live.Add(1)
	return ref
}

func grow[T any](dir []*chunk[T]) []*chunk[T] {
	grown := append(make([]*chunk[T], 0, len(dir)+1), dir...)
	return append(grown, new(chunk[T]))
}

// Get returns the value behind ref, or the zero T for the zero Ref, a freed
// Ref or a Ref this table never issued.
func (t *Table[T]) Get(ref Ref) T {
	var zero T
	if ref == 0 || uint32(ref) > t.n.Load() {
		return zero
	}
	i := uint32(ref) - 1
	c := (*t.dir.Load())[i>>chunkBits]
	if c == nil { // dropped or retired
		return (*t.stragglers.Load())[ref]
	}
	return c[i&chunkMask]
}

// Pin keeps ref's value for the table's lifetime: for values a holder keeps
// using without enumerating them to the sweeper. It reports false if ref was
// never issued or is already freed.
func (t *Table[T]) Pin(ref Ref) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ref == 0 || uint32(ref) > t.n.Load() {
		return false
	}
	i := uint32(ref) - 1
	m := t.meta[i>>chunkBits]
	if m == nil || m.freed.has(i) {
		return false
	}
	m.pinned.set(i)
	return true
}

// Len returns the number of values held: interned and not freed.
func (t *Table[T]) Len() int { return int(t.live.Load()) }

// Chunks returns the number of slot arrays held, of 1024 slots each.
func (t *Table[T]) Chunks() int { return int(t.chunks.Load()) }

// Stragglers returns the number of values held outside slot arrays, their
// chunks having been retired.
func (t *Table[T]) Stragglers() int { return len(*t.stragglers.Load()) }

// Freed returns the number of values freed so far.
func (t *Table[T]) Freed() uint64 { return t.freed.Load() }

// Exhausted returns the number of Intern calls refused because every Ref
// had been issued.
func (t *Table[T]) Exhausted() uint64 { return t.exhausted.Load() }

func (b *bitset) has(i uint32) bool { return b[(i&chunkMask)>>6]&(1<<(i&63)) != 0 }
func (b *bitset) set(i uint32)      { b[(i&chunkMask)>>6] |= 1 << (i & 63) }
func (b *bitset) clear(i uint32)    { b[(i&chunkMask)>>6] &^= 1 << (i & 63) }

// issuedMask returns the bits of word w of chunk c whose slots are below n.
func issuedMask(c, w int, n uint32) uint64 {
	first := uint64(c)*chunkSize + uint64(w)*64
	switch {
	case uint64(n) >= first+64:
		return math.MaxUint64
	case uint64(n) <= first:
		return 0
	}
	return 1<<(uint64(n)-first) - 1
}

func popcount(x uint64) int { return bits.OnesCount64(x) }

func bitsTrailing(x uint64) int { return bits.TrailingZeros64(x) }
