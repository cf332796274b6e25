package dns_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	mdns "github.com/miekg/dns"

	"github.com/foveanet/fovea/agent/enrich"
	"github.com/foveanet/fovea/api/filters"
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

// TestHubbleFilters runs parsed DNS records and a later connection through
// the names enricher and the Hubble filters `hubble observe` sends for
// --protocol dns, -t l7, --dns-query and --fqdn.
func TestHubbleFilters(t *testing.T) {
	f := newFixture(t)
	f.tables.L7 = f.store
	node := flowview.NewNode("n", "", "v", nil, f.tables)
	names := enrich.NewNames(f.names)
	var events []flowview.Flow
	emit := func(r *record.Record) {
		names.Enrich(r)
		var e flowview.Flow
		e.Reset(node, r, uint64(len(events)))
		events = append(events, e)
	}
	now := time.Now().UnixNano()
	q := query(webName, mdns.TypeA)
	for i, m := range []*mdns.Msg{q, answer(q, webName+" 60 IN CNAME api.demo.example.", "api.demo.example. 60 IN A 10.0.3.7")} {
		pkt := packet(record.ProtoUDP, i == 1, now)
		emit(pkt)
		var out record.Record
		if !f.parser.Parse(pkt, wire(t, m, record.ProtoUDP), &out) {
			t.Fatal("Parse failed")
		}
		emit(&out)
	}
	conn := &record.Record{Kind: record.KindTrace, Proto: record.ProtoTCP, Time: now + 1, SrcPort: 41000, DstPort: 8080}
	conn.SetAddrs(client, netip.MustParseAddr("10.0.3.7"))
	emit(conn)

	cases := map[string]struct {
		filter *flowpb.FlowFilter
		want   []int // indexes into events: query pkt, query L7, response pkt, response L7, connection
	}{
		"--protocol dns": {&flowpb.FlowFilter{Protocol: []string{"dns"}}, []int{1, 3}},
		"-t l7":          {&flowpb.FlowFilter{EventType: []*flowpb.EventTypeFilter{{Type: 129}}}, []int{1, 3}},
		"--dns-query":    {&flowpb.FlowFilter{DnsQuery: []string{"^web\\."}}, []int{1, 3}},
		"--to-fqdn":      {&flowpb.FlowFilter{DestinationFqdn: []string{"api.demo.example"}}, []int{4}},
		"--to-fqdn glob": {&flowpb.FlowFilter{DestinationFqdn: []string{"*.demo.example"}}, []int{4}},
		"--protocol udp": {&flowpb.FlowFilter{Protocol: []string{"udp"}}, []int{0, 1, 2, 3}},
	}
	for name, c := range cases {
		match, err := filters.Build([]*flowpb.FlowFilter{c.filter}, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []int
		for i := range events {
			if match(&events[i]) {
				got = append(got, i)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s matched events %v, want %v", name, got, c.want)
		}
	}
	if got := events[4].Flow().GetDestinationNames(); len(got) != 2 || got[0] != "api.demo.example" {
		t.Errorf("connection destination_names = %q", got)
	}
}

const webName = "web.demo.example."
