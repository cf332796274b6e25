package intern

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// sweepTable marks keep in tab and sweeps it.
func sweepTable[T any](t *testing.T, tab *Table[T], keep ...Ref) int {
	t.Helper()
	m := tab.NewMark()
	for _, r := range keep {
		m.Add(r)
	}
	n, err := tab.Sweep(m)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSweepFreesAfterTwoUnmarkedRounds(t *testing.T) {
	tab := NewTable[*string]()
	val := func(s string) func() *string { return func() *string { return &s } }
	a := tab.Intern("a", val("alpha"))
	b := tab.Intern("b", val("beta"))
	if n := sweepTable(t, tab, a); n != 0 {
		t.Fatalf("first sweep freed %d, want 0 (b is only suspect)", n)
	}
	if *tab.Get(b) != "beta" {
		t.Fatal("b lost after one unmarked sweep")
	}
	if n := sweepTable(t, tab, a); n != 1 {
		t.Fatalf("second sweep freed %d, want 1", n)
	}
	if got := tab.Get(b); got != nil {
		t.Fatalf("Get(freed) = %q, want nil", *got)
	}
	if *tab.Get(a) != "alpha" || tab.Len() != 1 || tab.Freed() != 1 {
		t.Fatalf("a=%q Len=%d Freed=%d", *tab.Get(a), tab.Len(), tab.Freed())
	}
	if _, ok := tab.lookup("b"); ok {
		t.Fatal("freed key still indexed")
	}
	b2 := tab.Intern("b", val("beta2"))
	if b2 == b || b2 <= a {
		t.Fatalf("re-interned b got ref %d, want a new one (old %d)", b2, b)
	}
	if tab.Get(b) != nil || *tab.Get(b2) != "beta2" {
		t.Fatal("old ref must stay freed, new ref must hold the new value")
	}
}

func TestSweepSparesReinternedAndPinned(t *testing.T) {
	tab := NewTable[int]()
	a := tab.Intern("a", func() int { return 1 })
	p := tab.Intern("p", func() int { return 2 })
	if !tab.Pin(p) {
		t.Fatal("Pin refused a live ref")
	}
	sweepTable(t, tab) // a and p unmarked: a suspect, p pinned
	// Interning a again is a use: whoever got it stores it before the
	// sweep after next.
	if again := tab.Intern("a", func() int { return 9 }); again != a {
		t.Fatalf("re-intern gave %d, want %d", again, a)
	}
	if n := sweepTable(t, tab); n != 0 {
		t.Fatalf("sweep after re-intern freed %d, want 0", n)
	}
	if n := sweepTable(t, tab); n != 1 || tab.Get(a) != 0 || tab.Get(p) != 2 {
		t.Fatalf("freed %d; a=%d p=%d", n, tab.Get(a), tab.Get(p))
	}
	if tab.Pin(a) || tab.Pin(0) || tab.Pin(100) {
		t.Fatal("Pin accepted a freed, zero or unissued ref")
	}
}

func TestSweepLeavesRefsIssuedAfterTheMark(t *testing.T) {
	tab := NewTable[int]()
	m := tab.NewMark()
	late := tab.Intern("late", func() int { return 7 })
	m.Add(late) // not covered by m: ignored
	for range 2 {
		if _, err := tab.Sweep(m); err != nil {
			t.Fatal(err)
		}
		m = tab.NewMark()
	}
	// Only the second sweep covered it: suspect, not freed.
	if tab.Get(late) != 7 {
		t.Fatal("ref issued after the first mark freed too early")
	}
}

func TestSweepRefusesStaleAndForeignMarks(t *testing.T) {
	tab, other := NewTable[int](), NewTable[int]()
	m := tab.NewMark()
	if _, err := tab.Sweep(other.NewMark()); err == nil {
		t.Fatal("sweep with another table's mark succeeded")
	}
	sweepTable(t, tab)
	if _, err := tab.Sweep(m); !errors.Is(err, errStaleMark) {
		t.Fatalf("sweep with a stale mark: %v", err)
	}
}

func TestSweepDropsFreedChunks(t *testing.T) {
	tab := NewTable[*int]()
	var keep []Ref
	const n = 3*chunkSize + 5
	for i := range n {
		ref := tab.Intern(fmt.Sprint(i), func() *int { return &i })
		// Keep one value in the second chunk and the last partial chunk.
		if i == chunkSize+3 || i == n-1 {
			keep = append(keep, ref)
		}
	}
	if tab.Chunks() != 4 {
		t.Fatalf("Chunks = %d, want 4", tab.Chunks())
	}
	sweepTable(t, tab, keep...)
	if freed := sweepTable(t, tab, keep...); freed != n-2 {
		t.Fatalf("freed %d, want %d", freed, n-2)
	}
	// Chunks 0 and 2 are empty and full: dropped. Chunk 1 keeps a value:
	// retired, its value a straggler. Chunk 3 is still being filled.
	if tab.Chunks() != 1 || tab.Len() != 2 || tab.Stragglers() != 1 {
		t.Fatalf("Chunks = %d, Len = %d, Stragglers = %d, want 1, 2, 1", tab.Chunks(), tab.Len(), tab.Stragglers())
	}
	dir := *tab.dir.Load()
	if dir[0] != nil || dir[1] != nil || dir[2] != nil || dir[3] == nil {
		t.Fatalf("directory %v: want only chunk 3", dir)
	}
	if tab.meta[0] != nil || tab.meta[1] == nil || tab.meta[2] != nil {
		t.Fatal("want the meta of chunk 1 only, which has a live value")
	}
	for ref := Ref(1); ref <= n; ref++ {
		got := tab.Get(ref)
		if want := ref == keep[0] || ref == keep[1]; (got != nil) != want || (want && *got != int(ref)-1) {
			t.Fatalf("Get(%d) = %v, kept %v", ref, got, want)
		}
	}
	// Filling the last chunk and freeing it drops it too.
	for i := n; i < 4*chunkSize; i++ {
		tab.Intern(fmt.Sprint(i), func() *int { return &i })
	}
	sweepTable(t, tab, keep[0])
	sweepTable(t, tab, keep[0])
	if tab.Chunks() != 0 || tab.Len() != 1 || *tab.Get(keep[0]) != chunkSize+3 {
		t.Fatalf("Chunks = %d, Len = %d, want 0, 1", tab.Chunks(), tab.Len())
	}
	// Freeing the last straggler drops chunk 1's meta.
	sweepTable(t, tab)
	sweepTable(t, tab)
	if tab.Len() != 0 || tab.Stragglers() != 0 || tab.meta[1] != nil || tab.Get(keep[0]) != nil {
		t.Fatalf("Len = %d, Stragglers = %d, meta %v", tab.Len(), tab.Stragglers(), tab.meta[1])
	}
}

// TestSweepUnderConcurrentReaders runs readers and an interner against
// sweeps: a reader sees its ref's own value or nil, never another one.
func TestSweepUnderConcurrentReaders(t *testing.T) {
	tab := NewTable[[]string]()
	var issued atomic.Uint32
	stop := readConcurrently(3, func() bool {
		for ref := Ref(1); uint32(ref) <= issued.Load(); ref += 13 {
			if got := tab.Get(ref); got != nil && (len(got) != 2 || got[1] != fmt.Sprint(ref)) {
				t.Errorf("Get(%d) = %v", ref, got)
				return false
			}
		}
		return true
	})
	const rounds = 40
	const perRound = 700
	var live []Ref
	for round := range rounds {
		for j := range perRound {
			key := fmt.Sprint(round, "/", j)
			ref := tab.Intern(key, func() []string { return []string{key, fmt.Sprint(tab.n.Load() + 1)} })
			issued.Store(uint32(ref))
			if j%100 == 0 {
				live = append(live, ref)
			}
		}
		m := tab.NewMark()
		for _, r := range live {
			m.Add(r)
		}
		if _, err := tab.Sweep(m); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	if tab.Len() > len(live)+2*perRound {
		t.Fatalf("Len = %d, want at most %d", tab.Len(), len(live)+2*perRound)
	}
	// Chunks holding a marked value stay, plus those of the last two
	// rounds (suspect, not yet freed).
	held := map[uint32]bool{}
	for _, r := range live {
		held[(uint32(r)-1)>>chunkBits] = true
	}
	if max := len(held) + 2*perRound/chunkSize + 2; tab.Chunks() > max {
		t.Fatalf("Chunks = %d, want at most %d", tab.Chunks(), max)
	}
	for _, r := range live {
		if tab.Get(r) == nil {
			t.Fatalf("marked ref %d freed", r)
		}
	}
}

// exhaust makes tab look as if all but left Refs had been issued and their
// values freed.
func exhaust[T any](tab *Table[T], left uint32) {
	n := math.MaxUint32 - left
	dir := make([]*chunk[T], n>>chunkBits+1)
	dir[n>>chunkBits] = new(chunk[T])
	tab.dir.Store(&dir)
	tab.meta = make([]*meta, len(dir))
	md := &meta{}
	for i := n &^ chunkMask; i < n; i++ {
		md.freed.set(i)
	}
	tab.meta[n>>chunkBits] = md
	tab.chunks.Store(1)
	tab.n.Store(n)
}

func TestInternReturnsZeroOnceRefsRunOut(t *testing.T) {
	tables := NewTables()
	tab := tables.Services
	exhaust(tab, 2)
	svc := func(name string) func() *flowpb.Service {
		return func() *flowpb.Service { return &flowpb.Service{Name: name} }
	}
	a, b := tab.Intern("a", svc("a")), tab.Intern("b", svc("b"))
	if a != math.MaxUint32-1 || b != math.MaxUint32 {
		t.Fatalf("last refs %d, %d", a, b)
	}
	for range 2 {
		if ref := tab.Intern("late", svc("late")); ref != 0 {
			t.Fatalf("Intern after the last Ref gave %d, want 0", ref)
		}
	}
	if again := tab.Intern("a", nil); again != a || tab.Get(b).GetName() != "b" || tab.Exhausted() != 2 {
		t.Fatalf("re-intern gave %d, Get(b) = %v, Exhausted = %d", again, tab.Get(b), tab.Exhausted())
	}
	// The table still sweeps: b goes, a stays.
	sweepTable(t, tab, a)
	if n := sweepTable(t, tab, a); n != 1 || tab.Len() != 1 || tab.Get(b) != nil || tab.Get(a).GetName() != "a" {
		t.Fatalf("after sweeps: a=%v b=%v", tab.Get(a), tab.Get(b))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(tables.Collector())
	want := `
# HELP intern_exhausted_total Values not interned because the table had issued all 2^32-1 references: flows show them as unknown.
# TYPE intern_exhausted_total counter
intern_exhausted_total{table="endpoints"} 0
intern_exhausted_total{table="interfaces"} 0
intern_exhausted_total{table="names"} 0
intern_exhausted_total{table="policies"} 0
intern_exhausted_total{table="services"} 2
intern_exhausted_total{table="tunnels"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "intern_exhausted_total"); err != nil {
		t.Fatal(err)
	}
}
