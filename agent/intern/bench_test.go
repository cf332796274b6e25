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
