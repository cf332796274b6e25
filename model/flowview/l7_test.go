package flowview

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// details is a one-slot L7 store: ref 1 resolves, anything else is gone.
type details struct{ l7 *flowpb.Layer7 }

func (d details) Get(ref intern.Ref) *flowpb.Layer7 {
	if ref == 1 {
		return d.l7
	}
	return nil
}

func TestFlowFromL7Record(t *testing.T) {
	node := testNode()
	dns := &flowpb.DNS{
		Query: "web.demo.example.", Qtypes: []string{"A"}, Ips: []string{"10.0.3.7"}, Ttl: 60,
		Cnames: []string{"api.demo.example."}, Rrtypes: []string{"CNAME", "A"}, ObservationSource: ObservationSourceDatapath,
	}
	l7 := &flowpb.Layer7{Type: flowpb.L7FlowType_RESPONSE, LatencyNs: 1500, Record: &flowpb.Layer7_Dns{Dns: dns}}
	node.Tables.L7 = details{l7}
	rec := tcpRecord()
	rec.Kind, rec.TCPFlags, rec.Ext = record.KindL7, 0, 1

	var e Flow
	e.Reset(node, &rec, 1)
	f := e.Flow()
	if f.GetType() != flowpb.FlowType_L7 || f.GetEventType().GetType() != EventTypeL7 || f.GetL7() != l7 {
		t.Errorf("flow type %v, event type %v, L7 %v", f.GetType(), f.GetEventType(), f.GetL7())
	}
	if f.GetL4().GetTCP().GetFlags() != nil || f.GetL4().GetTCP().GetDestinationPort() != 8080 {
		t.Errorf("L4 = %v, want ports without flags", f.GetL4())
	}
	want := `DNS Answer "10.0.3.7" CNAMEs: "api.demo.example." TTL: 60 (Query web.demo.example. A)`
	if f.GetSummary() != want {
		t.Errorf("Summary = %q, want %q", f.GetSummary(), want)
	}

	// Details overwritten in the store: still an L7 flow, without them.
	rec.Ext = 2
	e.Reset(node, &rec, 2)
	if f := e.Flow(); f.GetType() != flowpb.FlowType_L7 || f.GetL7() != nil || f.GetSummary() != "TCP Flags: " {
		t.Errorf("expired details: type %v, L7 %v, summary %q", f.GetType(), f.GetL7(), f.GetSummary())
	}
	// Ext of other kinds is not L7 details.
	rec.Kind, rec.Ext = record.KindDrop, 1
	e.Reset(node, &rec, 3)
	if e.L7() != nil {
		t.Error("a drop record resolved L7 details")
	}
	// Without an L7 store there are no details.
	node.Tables.L7 = nil
	rec.Kind = record.KindL7
	e.Reset(node, &rec, 4)
	if e.L7() != nil {
		t.Error("L7 details without a store")
	}
}

func TestDNSSummary(t *testing.T) {
	q := &flowpb.DNS{Query: "a.example.", Qtypes: []string{"A", "AAAA"}}
	cases := []struct {
		typ  flowpb.L7FlowType
		dns  *flowpb.DNS
		want string
	}{
		{flowpb.L7FlowType_REQUEST, q, "DNS Query a.example. A,AAAA"},
		{flowpb.L7FlowType_RESPONSE, &flowpb.DNS{Query: "a.example.", Qtypes: []string{"A"}, Rcode: 2, Ttl: 0},
			"DNS Answer RCode: Server Failure TTL: 0 (Query a.example. A)"},
		{flowpb.L7FlowType_RESPONSE, &flowpb.DNS{Query: "a.example.", Qtypes: []string{"A"}, Ips: []string{"1.2.3.4", "1.2.3.5"},
			Ttl: 60, ObservationSource: ObservationSourceProxy},
			`DNS Answer "1.2.3.4,1.2.3.5" TTL: 60 (Proxy a.example. A)`},
		{flowpb.L7FlowType_RESPONSE, &flowpb.DNS{Query: "a.example.", Qtypes: []string{"MX"}},
			"DNS Answer  TTL: 0 (Query a.example. MX)"},
		{flowpb.L7FlowType_SAMPLE, q, ""},
	}
	for _, c := range cases {
		if got := DNSSummary(c.typ, c.dns); got != c.want {
			t.Errorf("DNSSummary(%v, %v) = %q, want %q", c.typ, c.dns, got, c.want)
		}
	}
}

func TestHTTPSummary(t *testing.T) {
	req := &flowpb.HTTP{Method: "GET", Url: "http://web:8080/api", Protocol: "HTTP/1.1"}
	resp := &flowpb.HTTP{Code: 503, Method: "POST", Url: "http://web/x", Protocol: "HTTP/1.0"}
	cases := []struct {
		l7   *flowpb.Layer7
		want string
	}{
		{&flowpb.Layer7{Type: flowpb.L7FlowType_REQUEST, Record: &flowpb.Layer7_Http{Http: req}}, "HTTP/1.1 GET http://web:8080/api"},
		{&flowpb.Layer7{Type: flowpb.L7FlowType_RESPONSE, LatencyNs: 101_999_999, Record: &flowpb.Layer7_Http{Http: resp}},
			"HTTP/1.0 503 101ms (POST http://web/x)"},
		{&flowpb.Layer7{Type: flowpb.L7FlowType_SAMPLE, Record: &flowpb.Layer7_Http{Http: req}}, ""},
	}
	for _, c := range cases {
		if got := HTTPSummary(c.l7); got != c.want {
			t.Errorf("HTTPSummary(%v) = %q, want %q", c.l7, got, c.want)
		}
	}
	// A built HTTP flow carries it.
	node := testNode()
	node.Tables.L7 = details{cases[1].l7}
	rec := tcpRecord()
	rec.Kind, rec.TCPFlags, rec.Ext = record.KindL7, 0, 1
	var e Flow
	e.Reset(node, &rec, 1)
	if f := e.Flow(); f.GetSummary() != cases[1].want || f.GetL7().GetHttp().GetCode() != 503 {
		t.Errorf("HTTP flow: summary %q, L7 %v", f.GetSummary(), f.GetL7())
	}
}
