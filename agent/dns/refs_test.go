package dns_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/foveanet/fovea/agent/dns"
	"github.com/foveanet/fovea/model/intern"
)

// TestNamesMarksCachedLists sweeps twice after an address's names changed:
// the list the cache holds now survives, the one it replaced is freed.
func TestNamesMarksCachedLists(t *testing.T) {
	tables := intern.NewTables()
	n, err := dns.NewNames(tables.Names)
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr("192.0.2.7")
	n.Add(a, "one.example.", time.Minute, 0)
	first := n.Lookup(a, 0)
	n.Add(a, "two.example.", time.Minute, 0)
	cur := n.Lookup(a, 0)
	for range 2 {
		m := tables.NewMarks()
		n.MarkRefs(m)
		if _, err := tables.Sweep(m); err != nil {
			t.Fatal(err)
		}
	}
	if tables.Names.Get(first) != nil {
		t.Fatalf("replaced list %v kept", tables.Names.Get(first))
	}
	if got := tables.Names.Get(cur); len(got) != 2 || got[0] != "one.example" || got[1] != "two.example" {
		t.Fatalf("current list = %v", got)
	}
}
