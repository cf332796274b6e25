package record

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/intern"
)

func TestMarkRefsKeepsEveryTableReference(t *testing.T) {
	tables := intern.NewTables()
	ep := func(k string) intern.Ref {
		return tables.Endpoints.Intern(k, func() *flowpb.Endpoint { return &flowpb.Endpoint{PodName: k} })
	}
	svc := func(k string) intern.Ref {
		return tables.Services.Intern(k, func() *flowpb.Service { return &flowpb.Service{Name: k} })
	}
	nm := func(k string) intern.Ref { return tables.Names.Intern(k, func() []string { return []string{k} }) }
	drop := Record{
		Kind:        KindDrop,
		Iface:       tables.Interfaces.Intern("1/eth0", func() *flowpb.NetworkInterface { return &flowpb.NetworkInterface{} }),
		SrcEndpoint: ep("a"), DstEndpoint: ep("b"),
		SrcService: svc("s"), DstService: svc("t"),
		SrcNames: nm("x"), DstNames: nm("y"), Ext: nm("reason"),
	}
	pol := func(k string) intern.Ref {
		return tables.Policies.Intern(k, func() []*flowpb.Policy { return []*flowpb.Policy{{Name: k}} })
	}
	drop.Policy = pol("deny")
	verdict := Record{Kind: KindPolicyVerdict, Policy: pol("allow"), Ext: nm("netfilter")}
	l7 := Record{Kind: KindL7, Ext: nm("unrelated")} // Ext is an L7 detail here
	for range 2 {
		m := tables.NewMarks()
		drop.MarkRefs(m)
		verdict.MarkRefs(m)
		l7.MarkRefs(m)
		if _, err := tables.Sweep(m); err != nil {
			t.Fatal(err)
		}
	}
	if tables.Endpoints.Len() != 2 || tables.Interfaces.Len() != 1 || tables.Services.Len() != 2 || tables.Names.Len() != 4 ||
		tables.Policies.Len() != 2 {
		t.Fatalf("Len endpoints=%d interfaces=%d services=%d names=%d policies=%d, want 2 1 2 4 2",
			tables.Endpoints.Len(), tables.Interfaces.Len(), tables.Services.Len(), tables.Names.Len(), tables.Policies.Len())
	}
	if tables.Names.Get(l7.Ext) != nil {
		t.Fatal("an L7 record's Ext kept a Names entry")
	}
}
