package endpoints

import (
	"net/netip"
	"testing"

	"github.com/foveanet/fovea/model/intern"
)

// TestStoreMarksItsIndex sweeps twice after replacing an index: the
// replaced index's pod and service are freed, the current one's kept.
func TestStoreMarksItsIndex(t *testing.T) {
	tables := intern.NewTables()
	build := func(pod, svc string, remote bool) *Index {
		t.Helper()
		a := netip.MustParseAddr("10.0.0.1")
		var opts []BuildOption
		if remote {
			opts = append(opts, RemoteNodes([]netip.Addr{netip.MustParseAddr("192.168.0.2")}))
		}
		ix, err := Build(tables,
			[]Pod{{Namespace: "ns", Name: pod, IPs: []netip.Addr{a}}},
			[]Service{{Namespace: "ns", Name: svc, Frontends: []Frontend{{Addr: netip.MustParseAddr("10.96.0.1")}}}},
			opts...)
		if err != nil {
			t.Fatal(err)
		}
		return ix
	}
	store := NewStore()
	store.Replace(build("old", "old-svc", false))
	store.Replace(build("new", "new-svc", true))
	for range 2 {
		m := tables.NewMarks()
		store.MarkRefs(m)
		if _, err := tables.Sweep(m); err != nil {
			t.Fatal(err)
		}
	}
	ep, svc := store.Load().Lookup(netip.MustParseAddr("10.96.0.1"), 80, 6)
	if ep != 0 || tables.Services.Get(svc).GetName() != "new-svc" {
		t.Fatalf("service lookup: endpoint %d, service %v", ep, tables.Services.Get(svc))
	}
	if got := tables.Endpoints.Get(store.Load().Endpoint(netip.MustParseAddr("10.0.0.1"))); got.GetPodName() != "new" {
		t.Fatalf("current pod resolves to %v", got)
	}
	// new, remote-node; old-svc and old freed.
	if tables.Endpoints.Len() != 2 || tables.Services.Len() != 1 || tables.Endpoints.Freed() != 1 || tables.Services.Freed() != 1 {
		t.Fatalf("endpoints %d held %d freed, services %d held %d freed", tables.Endpoints.Len(), tables.Endpoints.Freed(),
			tables.Services.Len(), tables.Services.Freed())
	}
}
