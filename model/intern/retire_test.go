package intern

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// metas counts the chunks whose sweep state tab keeps.
func metas[T any](tab *Table[T]) int {
	n := 0
	for _, md := range tab.meta {
		if md != nil {
			n++
		}
	}
	return n
}

// TestSweepRetiresSparseChunksUnderMixedLifetimes interns 400,000 values of
// which 1 % live on, sweeping every 2,000: slot storage stays proportional to
// what lives, not to what was ever interned.
func TestSweepRetiresSparseChunksUnderMixedLifetimes(t *testing.T) {
	tab := NewTable[int]()
	const total, every, sweepEvery = 400000, 100, 2000
	var long []Ref
	var freedBelow uint32 // refs up to it not kept are freed by the last sweep
	var marks []uint32    // n at each mark
	for i := range total {
		ref := tab.Intern(fmt.Sprint(i), func() int { return i + 1 })
		if i%every == 0 {
			long = append(long, ref)
		}
		if (i+1)%sweepEvery == 0 {
			marks = append(marks, tab.n.Load())
			sweepTable(t, tab, long...)
		}
	}
	freedBelow = marks[len(marks)-2]
	live := tab.Len()
	t.Logf("%d interned, %d live (%d kept), %d slot arrays, %d stragglers, %d metas of %d chunks issued",
		total, live, len(long), tab.Chunks(), tab.Stragglers(), metas(tab), len(tab.meta))
	if max := len(long) + 2*sweepEvery; live > max {
		t.Fatalf("Len = %d, want at most %d", live, max)
	}
	// The chunks of the last two sweep intervals (not yet freed) and the
	// one being filled hold slot arrays; every other one was retired.
	if max := 2*sweepEvery/chunkSize + 3; tab.Chunks() > max {
		t.Fatalf("Chunks = %d, want at most %d", tab.Chunks(), max)
	}
	if slots := tab.Chunks()*chunkSize + tab.Stragglers(); slots > live+8*chunkSize {
		t.Fatalf("%d slots and stragglers for %d live values", slots, live)
	}
	kept := map[Ref]bool{}
	for _, r := range long {
		kept[r] = true
	}
	for ref := Ref(1); ref <= total; ref++ {
		got := tab.Get(ref)
		switch {
		case kept[ref] && got != int(ref):
			t.Fatalf("kept ref %d reads %d", ref, got)
		case !kept[ref] && uint32(ref) <= freedBelow && got != 0:
			t.Fatalf("freed ref %d reads %d", ref, got)
		case got != 0 && got != int(ref):
			t.Fatalf("ref %d reads %d", ref, got)
		}
	}
	// Letting go of the long-lived values frees them all, and their chunks'
	// sweep state.
	sweepTable(t, tab)
	sweepTable(t, tab)
	if tab.Len() != 0 || tab.Stragglers() != 0 || metas(tab) > 1 || tab.Chunks() > 1 {
		t.Fatalf("after freeing all: Len = %d, Stragglers = %d, metas = %d, Chunks = %d",
			tab.Len(), tab.Stragglers(), metas(tab), tab.Chunks())
	}
	for _, r := range long {
		if got := tab.Get(r); got != 0 {
			t.Fatalf("freed straggler %d reads %d", r, got)
		}
	}
}

// fillChunk interns values until chunk 0 is full and one more, so that
// chunk 0 may be retired.
func fillChunk(tab *Table[int]) {
	for i := int(tab.n.Load()); i <= chunkSize; i++ {
		tab.Intern(fmt.Sprint(i), func() int { return i + 1 })
	}
}

func TestSweepKeepsPinnedStragglers(t *testing.T) {
	tab := NewTable[int]()
	fillChunk(tab)
	const p = Ref(5)
	if !tab.Pin(p) {
		t.Fatal("Pin refused a live ref")
	}
	for range 4 {
		sweepTable(t, tab)
	}
	if (*tab.dir.Load())[0] != nil || tab.Stragglers() != 1 || tab.Get(p) != 5 || !tab.Pin(p) {
		t.Fatalf("chunk 0 %p, Stragglers = %d, Get(p) = %d", (*tab.dir.Load())[0], tab.Stragglers(), tab.Get(p))
	}
	if ref, ok := tab.lookup("4"); !ok || ref != p {
		t.Fatalf("Lookup of the pinned straggler's key = %d, %v", ref, ok)
	}
}

func TestReinternedStragglerSurvivesUntilUnused(t *testing.T) {
	tab := NewTable[int]()
	fillChunk(tab)
	const s = Ref(7)
	sweepTable(t, tab, s)
	sweepTable(t, tab, s)
	if (*tab.dir.Load())[0] != nil || tab.Stragglers() != 1 {
		t.Fatalf("chunk 0 not retired: Stragglers = %d", tab.Stragglers())
	}
	// Unmarked once, then interned again: a use, so it survives.
	sweepTable(t, tab)
	if ref := tab.Intern("6", func() int { return -1 }); ref != s {
		t.Fatalf("re-interning a straggler's key gave %d, want %d", ref, s)
	}
	sweepTable(t, tab)
	if tab.Get(s) != 7 {
		t.Fatal("re-interned straggler freed")
	}
	sweepTable(t, tab)
	if tab.Get(s) != 0 || tab.Stragglers() != 0 || tab.meta[0] != nil {
		t.Fatalf("unused straggler kept: Get = %d, Stragglers = %d", tab.Get(s), tab.Stragglers())
	}
	if ref := tab.Intern("6", func() int { return 70 }); ref == s || tab.Get(ref) != 70 {
		t.Fatalf("re-interning a freed straggler's key gave %d", ref)
	}
}

// TestRetirementUnderConcurrentReaders has readers resolve kept refs while
// sweeps retire their chunks: a kept ref never reads as zero, any other
// reads as its own value or zero.
func TestRetirementUnderConcurrentReaders(t *testing.T) {
	tab := NewTable[int]()
	var kept atomic.Pointer[[]Ref]
	kept.Store(&[]Ref{})
	var issued atomic.Uint32
	stop := readConcurrently(2, func() bool {
		for _, r := range *kept.Load() {
			if got := tab.Get(r); got != int(r) {
				t.Errorf("kept ref %d reads %d", r, got)
				return false
			}
		}
		for ref := Ref(1); uint32(ref) <= issued.Load(); ref += 31 {
			if got := tab.Get(ref); got != 0 && got != int(ref) {
				t.Errorf("Get(%d) = %d", ref, got)
				return false
			}
		}
		return true
	})
	const rounds, perRound = 60, 600
	var live []Ref
	for round := range rounds {
		for j := range perRound {
			ref := tab.Intern(fmt.Sprint(round, "/", j), func() int { return int(tab.n.Load()) + 1 })
			issued.Store(uint32(ref))
			if j%50 == 0 {
				live = append(live, ref)
				kept.Store(new(append([]Ref(nil), live...)))
			}
		}
		sweepTable(t, tab, live...)
	}
	stop()
	if tab.Stragglers() == 0 {
		t.Fatal("no chunk was retired")
	}
}
