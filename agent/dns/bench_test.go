package dns_test

import (
	"net/netip"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/foveanet/fovea/agent/enrich"
	"github.com/foveanet/fovea/model/record"
)

// BenchmarkParseResponse measures decoding a typical response (CNAME + two
// A answers) into an L7 record.
func BenchmarkParseResponse(b *testing.B) {
	f := newFixture(b)
	q := query(webName, mdns.TypeA)
	payload := wire(b, answer(q, webName+" 300 IN CNAME api.demo.example.",
		"api.demo.example. 60 IN A 10.0.3.7", "api.demo.example. 60 IN A 10.0.3.8"), record.ProtoUDP)
	pkt := packet(record.ProtoUDP, true, time.Now().UnixNano())
	var out record.Record
	b.ReportAllocs()
	for b.Loop() {
		pkt.Time += int64(time.Second) // not a duplicate of the last one
		if !f.parser.Parse(pkt, payload, &out) {
			b.Fatal("Parse failed")
		}
	}
}

// BenchmarkEnrichNames measures the names enricher on a record whose
// destination has names and whose source has none: its cost per flow.
func BenchmarkEnrichNames(b *testing.B) {
	f := newFixture(b)
	api := netip.MustParseAddr("10.0.3.7")
	now := time.Now().UnixNano()
	f.names.Add(api, "api.demo.example", time.Hour, now)
	e := enrich.NewNames(f.names)
	r := &record.Record{Kind: record.KindTrace, Proto: record.ProtoTCP, Time: now}
	r.SetAddrs(client, api)
	b.ReportAllocs()
	for b.Loop() {
		r.SrcNames, r.DstNames = 0, 0
		e.Enrich(r)
	}
	if r.DstNames == 0 {
		b.Fatal("no names")
	}
}
