package dns_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/google/go-cmp/cmp"
	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/foveanet/fovea/agent/dns"
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/l7"
	"github.com/foveanet/fovea/model/record"
)

type fixture struct {
	parser *dns.Parser
	store  *l7.Store
	names  *dns.Names
	tables *intern.Tables
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	store, err := l7.NewStore(64)
	if err != nil {
		t.Fatal(err)
	}
	tables := intern.NewTables()
	names, err := dns.NewNames(tables.Names)
	if err != nil {
		t.Fatal(err)
	}
	p, err := dns.NewParser(store, dns.WithNames(names))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{parser: p, store: store, names: names, tables: tables}
}

// parse runs Parse and returns the output record and its L7 details.
func (f *fixture) parse(t *testing.T, pkt *record.Record, payload []byte) (record.Record, *flowpb.Layer7) {
	t.Helper()
	var out record.Record
	if !f.parser.Parse(pkt, payload, &out) {
		t.Fatalf("Parse(%x) = false, want true", payload)
	}
	l := f.store.Get(out.Ext)
	if l == nil {
		t.Fatal("output record references no L7 details")
	}
	return out, l
}

func TestParseQueryAndResponse(t *testing.T) {
	for _, proto := range []uint8{record.ProtoUDP, record.ProtoTCP} {
		t.Run(fmt.Sprint(proto), func(t *testing.T) {
			f := newFixture(t)
			q := query("Web.Demo.Example.", mdns.TypeA)
			start := time.Unix(1700000000, 0).UnixNano()
			qpkt := packet(proto, false, start)
			out, l := f.parse(t, qpkt, wire(t, q, proto))

			want := *qpkt
			want.Kind, want.Verdict, want.TCPFlags, want.Ext = record.KindL7, uint8(flowpb.Verdict_FORWARDED), 0, out.Ext
			want.SetReply(false)
			if out != want {
				t.Errorf("query record = %+v, want %+v", out, want)
			}
			wantL7 := &flowpb.Layer7{Type: flowpb.L7FlowType_REQUEST, Record: &flowpb.Layer7_Dns{Dns: &flowpb.DNS{
				Query: "web.demo.example.", Qtypes: []string{"A"}, ObservationSource: "datapath",
			}}}
			if d := cmp.Diff(wantL7, l, protocmp.Transform()); d != "" {
				t.Errorf("query details (-want +got):\n%s", d)
			}
			if s, want := flowview.DNSSummary(l.Type, l.GetDns()), "DNS Query web.demo.example. A"; s != want {
				t.Errorf("summary %q, want %q", s, want)
			}

			r := answer(q, "web.demo.example. 300 IN CNAME api.demo.example.",
				"api.demo.example. 60 IN A 10.0.3.7", "api.demo.example. 90 IN A 10.0.3.8")
			rpkt := packet(proto, true, start+int64(3*time.Millisecond))
			out, l = f.parse(t, rpkt, wire(t, r, proto))
			if reply, known := out.Reply(); !reply || !known {
				t.Errorf("response reply = %v, %v; want true, true", reply, known)
			}
			if out.SrcAddr() != server || out.DstPort != 40000 || out.Iface != 3 || out.ObsPoint != 9 {
				t.Errorf("response record does not keep the packet's addresses, ports, interface, point: %+v", out)
			}
			wantL7 = &flowpb.Layer7{Type: flowpb.L7FlowType_RESPONSE, LatencyNs: uint64(3 * time.Millisecond),
				Record: &flowpb.Layer7_Dns{Dns: &flowpb.DNS{
					Query: "web.demo.example.", Qtypes: []string{"A"}, ObservationSource: "datapath",
					Ips: []string{"10.0.3.7", "10.0.3.8"}, Ttl: 60, Cnames: []string{"api.demo.example."},
					Rrtypes: []string{"CNAME", "A", "A"},
				}}}
			if d := cmp.Diff(wantL7, l, protocmp.Transform()); d != "" {
				t.Errorf("response details (-want +got):\n%s", d)
			}
			wantSummary := `DNS Answer "10.0.3.7,10.0.3.8" CNAMEs: "api.demo.example." TTL: 60 (Query web.demo.example. A)`
			if s := flowview.DNSSummary(l.Type, l.GetDns()); s != wantSummary {
				t.Errorf("summary %q, want %q", s, wantSummary)
			}
			ref := f.names.Lookup(netip.MustParseAddr("10.0.3.8"), rpkt.Time)
			if got := f.tables.Names.Get(ref); !cmp.Equal(got, []string{"api.demo.example", "web.demo.example"}) {
				t.Errorf("names of 10.0.3.8 = %q", got)
			}
		})
	}
}

func TestParseErrorResponse(t *testing.T) {
	f := newFixture(t)
	q := query("nope.demo.example.", mdns.TypeAAAA)
	r := new(mdns.Msg)
	r.SetRcode(q, mdns.RcodeNameError)
	_, l := f.parse(t, packet(record.ProtoUDP, true, 1), wire(t, r, record.ProtoUDP))
	if l.GetDns().GetRcode() != 3 || l.GetLatencyNs() != 0 {
		t.Errorf("details = %v, want rcode 3 and no latency (query unseen)", l)
	}
	want := "DNS Answer RCode: Non-Existent Domain TTL: 0 (Query nope.demo.example. AAAA)"
	if s := flowview.DNSSummary(l.Type, l.GetDns()); s != want {
		t.Errorf("summary %q, want %q", s, want)
	}
	if f.names.Len() != 0 {
		t.Error("an error response fed the names cache")
	}
}

func TestParseCutMessageKeepsAnswersThatFit(t *testing.T) {
	f := newFixture(t)
	q := query("many.demo.example.", mdns.TypeA)
	var rrs []string
	for i := range 60 {
		rrs = append(rrs, fmt.Sprintf("many.demo.example. 30 IN A 10.9.0.%d", i+1))
	}
	r := answer(q, rrs...)
	r.Compress = false
	for _, proto := range []uint8{record.ProtoUDP, record.ProtoTCP} {
		payload := wire(t, r, proto)
		if len(payload) <= dns.SnippetLen {
			t.Fatalf("test message is only %d bytes", len(payload))
		}
		_, l := f.parse(t, packet(proto, true, 1), payload[:dns.SnippetLen])
		ips := l.GetDns().GetIps()
		if len(ips) == 0 || len(ips) >= 60 || ips[0] != "10.9.0.1" {
			t.Errorf("proto %d: cut message gave ips %v, want a non-empty prefix", proto, ips)
		}
	}
	if got := value(t, f.parser.Collector(), "dns_truncated_messages_total"); got != 2 {
		t.Errorf("truncated messages = %v, want 2", got)
	}
}

func TestParseRejectsBadInput(t *testing.T) {
	f := newFixture(t)
	good := wire(t, query("a.example.", mdns.TypeA), record.ProtoUDP)
	noQuestion, _ := new(mdns.Msg).Pack()
	bad := map[string][]byte{
		"empty udp":      {},
		"garbage":        []byte("GET / HTTP/1.1\r\n\r\n"),
		"short header":   good[:7],
		"cut question":   good[:len(good)-3],
		"no question":    noQuestion,
		"one tcp byte":   {0},
		"label overflow": append(append([]byte{}, good[:12]...), 0xc0, 0x0c, 0, 1, 0, 1),
	}
	for name, payload := range bad {
		var out record.Record
		if f.parser.Parse(packet(record.ProtoUDP, false, 1), payload, &out) {
			t.Errorf("%s: Parse = true, want false", name)
		}
		if out != (record.Record{}) {
			t.Errorf("%s: Parse wrote the output record", name)
		}
	}
	// A TCP segment without payload (an ACK) is no error; one byte is.
	var out record.Record
	if f.parser.Parse(packet(record.ProtoTCP, false, 1), nil, &out) {
		t.Error("empty TCP payload parsed")
	}
	want := float64(len(bad))
	if got := value(t, f.parser.Collector(), "dns_parse_errors_total"); got != want {
		t.Errorf("parse errors = %v, want %v", got, want)
	}
}

func TestParserOptions(t *testing.T) {
	store, _ := l7.NewStore(1)
	if _, err := dns.NewParser(nil); err == nil {
		t.Error("NewParser(nil) succeeded")
	}
	if _, err := dns.NewParser(store, dns.WithPendingQueries(0)); err == nil {
		t.Error("NewParser with 0 pending queries succeeded")
	}
}

// value returns the sum of the metric family name in c.
func value(t *testing.T, c prometheus.Collector, name string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

func TestParseReportsEachMessageOnce(t *testing.T) {
	f := newFixture(t)
	payload := wire(t, query("a.example.", mdns.TypeA), record.ProtoUDP)
	var out record.Record
	ms := int64(time.Millisecond)
	for i, c := range []struct {
		time int64
		want bool
	}{
		{0, true},             // client's veth
		{ms, false},           // node uplink, same message
		{2 * ms, false},       // server's veth
		{5000 * ms, true},     // the client's retry after its timeout
		{5000*ms + ms, false}, // ... seen again
	} {
		pkt := packet(record.ProtoUDP, false, c.time)
		pkt.ObsPoint = uint8(i)
		if got := f.parser.Parse(pkt, payload, &out); got != c.want {
			t.Errorf("sighting %d at %dms: Parse = %v, want %v", i, c.time/ms, got, c.want)
		}
	}
	if got := value(t, f.parser.Collector(), "dns_duplicate_messages_total"); got != 3 {
		t.Errorf("duplicates = %v, want 3", got)
	}
	if got := value(t, f.parser.Collector(), "dns_parse_errors_total"); got != 0 {
		t.Errorf("duplicates counted as %v parse errors", got)
	}
}
