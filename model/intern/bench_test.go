package intern

import (
	"fmt"
	"testing"
)

// BenchmarkTableGet resolves refs of a 10,000-value table: what every flow
// built for a reader costs per endpoint.
func BenchmarkTableGet(b *testing.B) {
	tab := NewTable[*string]()
	const n = 10000
	for i := range n {
		s := fmt.Sprint(i)
		tab.Intern(s, func() *string { return &s })
	}
	var sink *string
	i := 0
	for b.Loop() {
		sink = tab.Get(Ref(i%n + 1))
		i++
	}
	_ = sink
}

// BenchmarkTableInternExisting re-interns a known key: what an index
// rebuild costs per unchanged pod.
func BenchmarkTableInternExisting(b *testing.B) {
	tab := NewTable[int]()
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("default\x00pod-%d\x00k8s:app=web", i)
		tab.Intern(keys[i], func() int { return i })
	}
	i := 0
	for b.Loop() {
		tab.Intern(keys[i%len(keys)], nil)
		i++
	}
}

// BenchmarkTableSweepFree frees 10,000 endpoints-sized values of a 20,000-
// value table: the time a sweep holds the table's mutex, which Intern waits
// for, after a burst of pod deletions.
func BenchmarkTableSweepFree(b *testing.B) {
	const n = 20000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("default\x00pod-%d\x00k8s:app=web", i)
	}
	// sweep keeps the odd refs and frees the even ones on the second round.
	sweep := func(tab *Table[*string]) int {
		m := tab.NewMark()
		for ref := Ref(1); ref <= n; ref += 2 {
			m.Add(ref)
		}
		freed, err := tab.Sweep(m)
		if err != nil {
			b.Fatal(err)
		}
		return freed
	}
	for b.Loop() {
		b.StopTimer()
		tab := NewTable[*string]()
		for i, k := range keys {
			tab.Intern(k, func() *string { return &keys[i] })
		}
		sweep(tab)
		b.StartTimer()
		if freed := sweep(tab); freed != n/2 {
			b.Fatalf("freed %d, want %d", freed, n/2)
		}
	}
}

// BenchmarkTableGetStraggler resolves refs whose chunks were retired, among
// 4,000 stragglers: what a flow pays per long-lived endpoint interned
// amid churn.
func BenchmarkTableGetStraggler(b *testing.B) {
	tab := NewTable[*string]()
	var kept []Ref
	for i := range 400 * chunkSize {
		s := fmt.Sprint(i)
		ref := tab.Intern(s, func() *string { return &s })
		if i%100 == 0 {
			kept = append(kept, ref)
		}
	}
	for range 2 {
		m := tab.NewMark()
		for _, r := range kept {
			m.Add(r)
		}
		if _, err := tab.Sweep(m); err != nil {
			b.Fatal(err)
		}
	}
	if tab.Stragglers() < 4000 {
		b.Fatalf("%d stragglers, want 4000", tab.Stragglers())
	}
	var sink *string
	i := 0
	for b.Loop() {
		sink = tab.Get(kept[i%len(kept)])
		i++
	}
	_ = sink
}

// BenchmarkTableSweepMixed sweeps a table that interns 2,000 values per
// sweep, 1 % of which live for 200 sweeps: the steady state of churn with
// some long-lived values, where every sweep frees ~2,000 values, retires
// two chunks and copies ~4,000 stragglers. Only the sweep is timed: it
// holds the table's mutex, which Intern waits for.
func BenchmarkTableSweepMixed(b *testing.B) {
	const perSweep, every, keep = 2000, 100, 4000
	tab := NewTable[*string]()
	kept := make([]Ref, 0, keep)
	next := 0
	round := func() {
		for range perSweep {
			s := fmt.Sprint(next)
			ref := tab.Intern(s, func() *string { return &s })
			if next%every == 0 {
				if len(kept) == keep {
					kept = append(kept[:0], kept[1:]...)
				}
				kept = append(kept, ref)
			}
			next++
		}
	}
	sweep := func() {
		m := tab.NewMark()
		for _, r := range kept {
			m.Add(r)
		}
		if _, err := tab.Sweep(m); err != nil {
			b.Fatal(err)
		}
	}
	for range 2 * keep * every / perSweep {
		round()
		sweep()
	}
	for b.Loop() {
		b.StopTimer()
		round()
		b.StartTimer()
		sweep()
	}
	b.ReportMetric(float64(tab.Stragglers()), "stragglers")
	b.ReportMetric(float64(tab.Chunks()), "chunks")
}
