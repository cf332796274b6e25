package dns_test

import (
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/foveanet/fovea/model/record"
)

// FuzzParse feeds arbitrary payloads to the parser over UDP and TCP: it must
// never panic, and whatever it accepts must reference stored details.
func FuzzParse(f *testing.F) {
	q := query("api.demo.example.", mdns.TypeA)
	r := answer(q, "web.demo.example. 300 IN CNAME api.demo.example.", "api.demo.example. 60 IN A 10.0.3.7",
		"api.demo.example. 60 IN AAAA fd00::7", "api.demo.example. 60 IN TXT \"x\"")
	for _, m := range []*mdns.Msg{q, r} {
		for _, proto := range []uint8{record.ProtoUDP, record.ProtoTCP} {
			f.Add(proto == record.ProtoTCP, wire(f, m, proto))
		}
	}
	f.Add(false, []byte{})
	fx := newFixture(f)
	var now int64
	f.Fuzz(func(t *testing.T, tcp bool, payload []byte) {
		proto := record.ProtoUDP
		if tcp {
			proto = record.ProtoTCP
		}
		if len(payload) > 512 {
			payload = payload[:512]
		}
		for _, response := range []bool{false, true} {
			now += int64(time.Minute) // never a duplicate of an earlier input
			var out record.Record
			if fx.parser.Parse(packet(proto, response, now), payload, &out) {
				if out.Kind != record.KindL7 || fx.store.Get(out.Ext).GetDns() == nil {
					t.Fatalf("accepted %x without DNS details: %+v", payload, out)
				}
			}
		}
	})
}
