//go:build linux

package bpf

import (
	"testing"

	"github.com/foveanet/fovea/model/intern"
)

// TestSourceKeepsItsInternRefs sweeps with only the source marking: the
// interface it captures on and the kernel drop reason names it cached stay,
// an interface it stopped capturing on goes.
func TestSourceKeepsItsInternRefs(t *testing.T) {
	s := newTestSource(t, Config{})
	sweep := func() {
		t.Helper()
		for range 2 {
			m := s.tables.NewMarks()
			s.MarkRefs(m)
			if _, err := s.tables.Sweep(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.mu.Lock()
	s.publishIface(1001, "kept0", roleEndpoint, false)
	s.publishIface(1002, "gone0", roleEndpoint, false)
	kept, gone := (*s.ifaces.Load())[1001].ref, (*s.ifaces.Load())[1002].ref
	s.unpublishIface(1002)
	s.mu.Unlock()
	drop := s.dropNameRef(2)
	sweep()
	if got := s.tables.Interfaces.Get(kept); got.GetName() != "kept0" {
		t.Fatalf("attached interface resolves to %v", got)
	}
	if got := s.tables.Interfaces.Get(gone); got != nil {
		t.Fatalf("detached interface still resolves to %v", got)
	}
	if got := s.tables.Names.Get(drop); len(got) != 1 {
		t.Fatalf("drop reason name resolves to %v", got)
	}
	if s.tables.Interfaces.Freed() != 1 || s.tables.Names.Freed() != 0 {
		t.Fatalf("freed %d interfaces and %d names, want 1 and 0", s.tables.Interfaces.Freed(), s.tables.Names.Freed())
	}
	var _ intern.Holder = s
}
