package flowmetrics

import (
	"github.com/foveanet/fovea/model/record"
)

// icmpHandler counts ICMP messages by family and type
// (hubble_icmp_total).
type icmpHandler struct {
	base
	icmp           *store
	types4, types6 *nameCache[uint16]
}

func newICMPHandler(b base, _ map[string]bool, limit int) handler {
	return &icmpHandler{
		base: b,
		icmp: newStore("hubble_icmp_total", "Number of ICMP messages",
			b.labels("family", "type"), b.ctx.namesEndpoints(), limit),
		types4: newNameCache(icmpv4Name),
		types6: newNameCache(icmpv6Name),
	}
}

func (h *icmpHandler) stores() []*store { return []*store{h.icmp} }

func (h *icmpHandler) observe(ev *event) {
	r := &ev.Rec
	if (r.Proto != record.ProtoICMP && r.Proto != record.ProtoICMPv6) || !h.match(ev) {
		return
	}
	tc := uint16(r.ICMPType)<<8 | uint16(r.ICMPCode)
	k := h.key[:0]
	// The family is the ICMP version's, whatever the IP header's.
	if r.Proto == record.ProtoICMP {
		k = appendName(appendName(k, "IPv4"), h.types4.get(tc))
	} else {
		k = appendName(appendName(k, "IPv6"), h.types6.get(tc))
	}
	k = h.ctx.appendValues(k, ev)
	h.icmp.inc(k, ev.now)
	h.key = k
}
