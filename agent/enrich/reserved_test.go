package enrich

import (
	"net/netip"
	"testing"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

func TestReserved(t *testing.T) {
	tables := intern.NewTables()
	e := NewReserved(tables)
	e.SetLocalAddrs([]netip.Addr{netip.MustParseAddr("172.30.0.1"), netip.MustParseAddr("::ffff:172.30.0.9")})

	var r record.Record
	r.SetAddrs(netip.MustParseAddr("172.30.0.1"), netip.MustParseAddr("8.8.8.8"))
	e.Enrich(&r)
	if id := tables.Endpoints.Get(r.SrcEndpoint).GetIdentity(); id != IdentityHost {
		t.Errorf("local source identity = %d, want host", id)
	}
	if ep := tables.Endpoints.Get(r.DstEndpoint); ep.GetIdentity() != IdentityWorld || ep.GetLabels()[0] != "reserved:world" {
		t.Errorf("remote destination = %v, want world", ep)
	}

	r = record.Record{}
	r.SetAddrs(netip.MustParseAddr("172.30.0.9"), netip.MustParseAddr("172.30.0.1"))
	r.SrcEndpoint = 99 // set by an earlier enricher: kept
	e.Enrich(&r)
	if r.SrcEndpoint != 99 || tables.Endpoints.Get(r.DstEndpoint).GetIdentity() != IdentityHost {
		t.Errorf("endpoints = %d, %d", r.SrcEndpoint, r.DstEndpoint)
	}

	lost := record.Record{Kind: record.KindLost}
	e.Enrich(&lost)
	if lost.SrcEndpoint != 0 || lost.DstEndpoint != 0 {
		t.Error("lost records must not get endpoints")
	}
}

func TestLocalAddrsIncludesLoopback(t *testing.T) {
	addrs, err := LocalAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if a.IsLoopback() {
			return
		}
	}
	t.Fatalf("LocalAddrs() = %v has no loopback address", addrs)
}

func BenchmarkReserved(b *testing.B) {
	e := NewReserved(intern.NewTables())
	e.SetLocalAddrs([]netip.Addr{netip.MustParseAddr("172.30.0.1")})
	var r record.Record
	r.SetAddrs(netip.MustParseAddr("172.30.0.1"), netip.MustParseAddr("10.0.0.1"))
	b.ReportAllocs()
	for b.Loop() {
		r.SrcEndpoint, r.DstEndpoint = 0, 0
		e.Enrich(&r)
	}
}
