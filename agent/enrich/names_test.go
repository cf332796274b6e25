package enrich_test

import (
	"net/netip"
	"testing"

	"github.com/foveanet/fovea/agent/enrich"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

type fakeNames map[netip.Addr]intern.Ref

func (f fakeNames) Lookup(a netip.Addr, _ int64) intern.Ref { return f[a] }

func TestNamesEnrich(t *testing.T) {
	api, web := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")
	e := enrich.NewNames(fakeNames{api: 7, web: 9})

	var r record.Record
	r.Kind = record.KindTrace
	r.SetAddrs(netip.MustParseAddr("10.0.0.1"), api)
	e.Enrich(&r)
	if r.SrcNames != 0 || r.DstNames != 7 {
		t.Errorf("names = %d, %d; want 0, 7", r.SrcNames, r.DstNames)
	}

	// A reference set earlier in the pipeline stays.
	r = record.Record{Kind: record.KindTrace, DstNames: 3}
	r.SetAddrs(web, api)
	e.Enrich(&r)
	if r.SrcNames != 9 || r.DstNames != 3 {
		t.Errorf("names = %d, %d; want 9, 3", r.SrcNames, r.DstNames)
	}

	lost := record.Record{Kind: record.KindLost}
	lost.SetAddrs(api, api)
	e.Enrich(&lost)
	if lost.SrcNames != 0 || lost.DstNames != 0 {
		t.Error("a lost-events record got names")
	}
}
