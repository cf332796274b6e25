package enrich_test

import (
	"net/netip"
	"strconv"
	"testing"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/agent/enrich"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

var (
	podA = netip.MustParseAddr("10.244.1.11")
	podB = netip.MustParseAddr("10.244.2.11")
	svc  = netip.MustParseAddr("10.96.0.10")
)

func endpointsFixture(tb testing.TB) (*intern.Tables, *endpoints.Store) {
	tb.Helper()
	tables := intern.NewTables()
	ix, err := endpoints.Build(tables, []endpoints.Pod{
		{Namespace: "demo", Name: "a", IPs: []netip.Addr{podA}},
		{Namespace: "demo", Name: "b", IPs: []netip.Addr{podB}},
	}, []endpoints.Service{{Namespace: "demo", Name: "web", Frontends: []endpoints.Frontend{{Addr: svc, Port: 80, Proto: record.ProtoTCP}}}})
	if err != nil {
		tb.Fatal(err)
	}
	store := endpoints.NewStore()
	store.Replace(ix)
	return tables, store
}

func TestEndpointsEnrich(t *testing.T) {
	tables, store := endpointsFixture(t)
	e := enrich.NewEndpoints(store)
	reserved := enrich.NewReserved(tables)

	r := record.Record{Kind: record.KindTrace, Proto: record.ProtoTCP, SrcPort: 40000, DstPort: 80}
	r.SetAddrs(podA, svc)
	e.Enrich(&r)
	reserved.Enrich(&r)
	if got := tables.Endpoints.Get(r.SrcEndpoint).GetPodName(); got != "a" {
		t.Errorf("source pod = %q", got)
	}
	if got := tables.Services.Get(r.DstService).GetName(); got != "web" {
		t.Errorf("destination service = %q", got)
	}
	if got := tables.Endpoints.Get(r.DstEndpoint).GetIdentity(); got != enrich.IdentityWorld {
		t.Errorf("unknown destination identity = %d, want world from the reserved enricher", got)
	}

	r = record.Record{Kind: record.KindTrace, SrcEndpoint: 42}
	r.SetAddrs(podA, podB)
	e.Enrich(&r)
	if r.SrcEndpoint != 42 || tables.Endpoints.Get(r.DstEndpoint).GetPodName() != "b" {
		t.Errorf("endpoints = %d, %v", r.SrcEndpoint, tables.Endpoints.Get(r.DstEndpoint))
	}

	lost := record.Record{Kind: record.KindLost}
	lost.SetAddrs(podA, podB)
	e.Enrich(&lost)
	if lost.SrcEndpoint != 0 || lost.DstEndpoint != 0 {
		t.Error("a lost-events record got endpoints")
	}
}

// BenchmarkEndpoints looks up both ends of a record in an index of 10k pods
// and 1k services, the size issue #4 sets.
func BenchmarkEndpoints(b *testing.B) {
	tables := intern.NewTables()
	pods := make([]endpoints.Pod, 10_000)
	for i := range pods {
		pods[i] = endpoints.Pod{Namespace: "ns" + strconv.Itoa(i%50), Name: "pod-" + strconv.Itoa(i),
			Labels: map[string]string{"app": "app-" + strconv.Itoa(i%300)},
			IPs:    []netip.Addr{netip.AddrFrom4([4]byte{10, 244, byte(i >> 8), byte(i)})}}
	}
	svcs := make([]endpoints.Service, 1_000)
	for i := range svcs {
		svcs[i] = endpoints.Service{Namespace: "ns", Name: "svc-" + strconv.Itoa(i), Frontends: []endpoints.Frontend{
			{Addr: netip.AddrFrom4([4]byte{10, 96, byte(i >> 8), byte(i)}), Port: 80, Proto: record.ProtoTCP}}}
	}
	ix, err := endpoints.Build(tables, pods, svcs)
	if err != nil {
		b.Fatal(err)
	}
	store := endpoints.NewStore()
	store.Replace(ix)
	e := enrich.NewEndpoints(store)
	var r record.Record
	r.Kind, r.Proto, r.SrcPort, r.DstPort = record.KindTrace, record.ProtoTCP, 40000, 80
	r.SetAddrs(netip.AddrFrom4([4]byte{10, 244, 3, 7}), netip.AddrFrom4([4]byte{10, 96, 2, 9}))
	b.ReportAllocs()
	for b.Loop() {
		r.SrcEndpoint, r.DstEndpoint, r.SrcService, r.DstService = 0, 0, 0, 0
		e.Enrich(&r)
	}
	if r.SrcEndpoint == 0 || r.DstService == 0 {
		b.Fatal("lookups missed")
	}
}
