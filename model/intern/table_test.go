package intern

import (
	"fmt"
	"testing"
)

func TestTableInternAndGet(t *testing.T) {
	tab := NewTable[string]()
	if got := tab.Get(0); got != "" {
		t.Fatalf("Get(0) = %q, want zero value", got)
	}
	calls := 0
	mk := func(v string) func() string { return func() string { calls++; return v } }
	a := tab.Intern("a", mk("alpha"))
	b := tab.Intern("b", mk("beta"))
	if again := tab.Intern("a", mk("other")); again != a {
		t.Fatalf("re-interning a gave %d, want %d", again, a)
	}
	if calls != 2 {
		t.Fatalf("constructor ran %d times, want 2", calls)
	}
	if a == 0 || b == 0 || a == b {
		t.Fatalf("refs a=%d b=%d must be distinct and non-zero", a, b)
	}
	if tab.Get(a) != "alpha" || tab.Get(b) != "beta" {
		t.Fatalf("Get returned %q, %q", tab.Get(a), tab.Get(b))
	}
	if got := tab.Get(b + 100); got != "" {
		t.Fatalf("Get(unissued) = %q", got)
	}
	if ref, ok := tab.lookup("b"); !ok || ref != b {
		t.Fatalf("Lookup(b) = %d, %v", ref, ok)
	}
}

func TestTableGrowsAcrossChunksUnderConcurrentReads(t *testing.T) {
	tab := NewTable[int]()
	const n = 3*(1<<chunkBits) + 7
	stop := readConcurrently(4, func() bool {
		for ref := Ref(1); int(ref) <= tab.Len(); ref += 97 {
			if got := tab.Get(ref); got != int(ref) {
				t.Errorf("Get(%d) = %d", ref, got)
				return false
			}
		}
		return true
	})
	for i := 1; i <= n; i++ {
		if ref := tab.Intern(fmt.Sprint(i), func() int { return i }); int(ref) != i {
			t.Fatalf("Intern #%d gave ref %d", i, ref)
		}
	}
	stop()
	if tab.Len() != n {
		t.Fatalf("Len() = %d, want %d", tab.Len(), n)
	}
}
