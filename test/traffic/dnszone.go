package traffic

import (
	"errors"
	"fmt"
	"strings"

	mdns "github.com/miekg/dns"
)

// Names of the demo zone DemoZone serves.
const (
	DemoAPIName = "api.demo.example."
	DemoWebName = "web.demo.example."
	// DemoTTL is the TTL of every demo record, in seconds.
	DemoTTL = 60
)

// maxCNAMEHops bounds CNAME chasing so that a looping zone still answers.
const maxCNAMEHops = 8

// Zone is a small authoritative DNS zone: it answers queries for its names,
// following CNAMEs within the zone, and NXDOMAIN for any other name.
type Zone struct {
	records map[string][]mdns.RR // by lower-case owner name
}

// NewZone parses records in zone-file syntax ("api.demo.example. 60 IN A
// 10.0.0.1").
func NewZone(records ...string) (*Zone, error) {
	z := &Zone{records: map[string][]mdns.RR{}}
	for _, s := range records {
		rr, err := mdns.NewRR(s)
		if err != nil {
			return nil, fmt.Errorf("parse record %q: %w", s, err)
		}
		if rr == nil {
			return nil, fmt.Errorf("parse record %q: no record", s)
		}
		name := strings.ToLower(rr.Header().Name)
		z.records[name] = append(z.records[name], rr)
	}
	return z, nil
}

// DemoZone answers DemoAPIName with api's addresses (A and AAAA) and
// DemoWebName with a CNAME to DemoAPIName.
func DemoZone(api Host) (*Zone, error) {
	records := []string{fmt.Sprintf("%s %d IN CNAME %s", DemoWebName, DemoTTL, DemoAPIName)}
	if api.IPv4.IsValid() {
		records = append(records, fmt.Sprintf("%s %d IN A %s", DemoAPIName, DemoTTL, api.IPv4))
	}
	if api.IPv6.IsValid() {
		records = append(records, fmt.Sprintf("%s %d IN AAAA %s", DemoAPIName, DemoTTL, api.IPv6))
	}
	if len(records) == 1 {
		return nil, errors.New("demo zone: api host has no address")
	}
	return NewZone(records...)
}

// Answer returns the authoritative response to q.
func (z *Zone) Answer(q *mdns.Msg) *mdns.Msg {
	r := new(mdns.Msg)
	if len(q.Question) != 1 {
		return r.SetRcode(q, mdns.RcodeFormatError)
	}
	r.SetReply(q)
	r.Authoritative = true
	qtype := q.Question[0].Qtype
	name := strings.ToLower(q.Question[0].Name)
	if _, ok := z.records[name]; !ok {
		return r.SetRcode(q, mdns.RcodeNameError)
	}
	for range maxCNAMEHops {
		next := ""
		for _, rr := range z.records[name] {
			switch {
			case rr.Header().Rrtype == qtype:
				r.Answer = append(r.Answer, rr)
			case rr.Header().Rrtype == mdns.TypeCNAME:
				r.Answer = append(r.Answer, rr)
				next = strings.ToLower(rr.(*mdns.CNAME).Target)
			}
		}
		if next == "" {
			break
		}
		name = next
	}
	return r
}

// ServeDNS answers one query; Zone is an mdns.Handler.
func (z *Zone) ServeDNS(w mdns.ResponseWriter, q *mdns.Msg) {
	_ = w.WriteMsg(z.Answer(q)) // the client times out and reports it
}
