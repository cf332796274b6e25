package traffic

import (
	"net/netip"
	"slices"
	"testing"

	mdns "github.com/miekg/dns"
)

func TestDemoZoneAnswers(t *testing.T) {
	api := Host{Name: "demo/api", IPv4: netip.MustParseAddr("10.244.1.11"), IPv6: netip.MustParseAddr("fd00::11")}
	z, err := DemoZone(api)
	if err != nil {
		t.Fatal(err)
	}
	ask := func(name string, qtype uint16) *mdns.Msg {
		q := new(mdns.Msg)
		q.SetQuestion(name, qtype)
		return z.Answer(q)
	}
	types := func(m *mdns.Msg) []string {
		var s []string
		for _, rr := range m.Answer {
			s = append(s, mdns.TypeToString[rr.Header().Rrtype])
		}
		return s
	}
	if r := ask("API.demo.example.", mdns.TypeA); r.Rcode != mdns.RcodeSuccess || !slices.Equal(types(r), []string{"A"}) ||
		r.Answer[0].(*mdns.A).A.String() != "10.244.1.11" || !r.Authoritative {
		t.Errorf("A api: %v", r)
	}
	if r := ask(DemoWebName, mdns.TypeAAAA); !slices.Equal(types(r), []string{"CNAME", "AAAA"}) {
		t.Errorf("AAAA web: %v", r)
	}
	if r := ask(DemoWebName, mdns.TypeCNAME); !slices.Equal(types(r), []string{"CNAME"}) {
		t.Errorf("CNAME web: %v", r)
	}
	if r := ask("nope.demo.example.", mdns.TypeA); r.Rcode != mdns.RcodeNameError || len(r.Answer) != 0 {
		t.Errorf("nope: %v", r)
	}
	if r := ask(DemoAPIName, mdns.TypeMX); r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("MX api: %v, want NOERROR without answers", r)
	}
	if r := z.Answer(new(mdns.Msg)); r.Rcode != mdns.RcodeFormatError {
		t.Errorf("no question: rcode %d, want FORMERR", r.Rcode)
	}
	if _, err := DemoZone(Host{Name: "x"}); err == nil {
		t.Error("DemoZone without addresses succeeded")
	}
	if _, err := NewZone("not a record"); err == nil {
		t.Error("NewZone accepted garbage")
	}
}

func TestZoneSurvivesCNAMELoop(t *testing.T) {
	z, err := NewZone("a.example. 60 IN CNAME b.example.", "b.example. 60 IN CNAME a.example.")
	if err != nil {
		t.Fatal(err)
	}
	q := new(mdns.Msg)
	q.SetQuestion("a.example.", mdns.TypeA)
	if r := z.Answer(q); len(r.Answer) != maxCNAMEHops {
		t.Errorf("loop gave %d answers, want %d", len(r.Answer), maxCNAMEHops)
	}
}
