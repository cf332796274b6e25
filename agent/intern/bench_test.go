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
