package flowmetrics

import (
	"github.com/foveanet/fovea/model/record"
)

// portHandler counts forwarded requests by protocol and destination port
// (hubble_port_distribution_total). Replies, and flows whose direction is
// unknown, are left out: their destination port is a client's.
type portHandler struct {
	base
	ports *store
}

func newPortHandler(b base, _ map[string]bool, limit int) handler {
	return &portHandler{base: b, ports: newStore("hubble_port_distribution_total", "Numbers of packets distributed by destination port",
		b.labels("protocol", "port"), b.ctx.namesEndpoints(), limit)}
}

func (h *portHandler) stores() []*store { return []*store{h.ports} }

func (h *portHandler) observe(ev *event) {
	r := &ev.Rec
	if reply, known := r.Reply(); !known || reply || !countable(r.Verdict) || !hasL4(r) || !h.match(ev) {
		return
	}
	k := appendName(h.key[:0], l4Names[r.Proto])
	switch r.Proto {
	case record.ProtoTCP, record.ProtoUDP, record.ProtoSCTP:
		k = appendUint(k, uint64(r.DstPort))
	default:
		k = appendName(k, "0")
	}
	k = h.ctx.appendValues(k, ev)
	h.ports.inc(k, ev.now)
	h.key = k
}
