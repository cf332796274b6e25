package dns

import (
	"net/netip"
	"strings"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/gopacket/gopacket/layers"
	mdns "github.com/miekg/dns"

	"github.com/foveanet/fovea/model/flowview"
)

// details converts a message with at least one question into Hubble's DNS
// fields, as Cilium's DNS proxy reports them: the first question's name
// (lower case) and type; for responses the A/AAAA addresses, the lowest TTL
// of the address and CNAME answers (0 when there are none, where Cilium
// reports 2^32-1), the CNAME targets, the rcode and every answer's type.
func details(m *mdns.Msg) *flowpb.DNS {
	q := m.Question[0]
	d := &flowpb.DNS{
		Query:             strings.ToLower(q.Name),
		ObservationSource: flowview.ObservationSourceDatapath,
		Qtypes:            []string{typeName(q.Qtype)},
	}
	if !m.Response {
		return d
	}
	d.Rcode = uint32(m.Rcode)
	ttl, haveTTL := uint32(0), false
	lower := func(t uint32) {
		if !haveTTL || t < ttl {
			ttl, haveTTL = t, true
		}
	}
	for _, rr := range m.Answer {
		h := rr.Header()
		d.Rrtypes = append(d.Rrtypes, typeName(h.Rrtype))
		switch rr := rr.(type) {
		case *mdns.A, *mdns.AAAA:
			if ip, ok := answerAddr(rr); ok {
				d.Ips = append(d.Ips, ip.String())
				lower(h.Ttl)
			}
		case *mdns.CNAME:
			d.Cnames = append(d.Cnames, strings.ToLower(rr.Target))
			lower(h.Ttl)
		}
	}
	d.Ttl = ttl
	return d
}

// answerAddr returns the address of an A or AAAA answer.
func answerAddr(rr mdns.RR) (netip.Addr, bool) {
	var ip netip.Addr
	var ok bool
	switch rr := rr.(type) {
	case *mdns.A:
		ip, ok = netip.AddrFromSlice(rr.A.To4())
	case *mdns.AAAA:
		ip, ok = netip.AddrFromSlice(rr.AAAA.To16())
	}
	return ip.Unmap(), ok && ip.IsValid()
}

// typeName names an RR type as Hubble does (gopacket's names).
func typeName(t uint16) string { return layers.DNSType(t).String() }
