package flowmetrics

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// dropHandler counts dropped flows by reason and protocol
// (hubble_drop_total).
type dropHandler struct {
	base
	drops   *store
	reasons *nameCache[uint16]
}

func newDropHandler(b base, _ map[string]bool, limit int) handler {
	return &dropHandler{
		base: b,
		// Cilium puts the context labels first here.
		drops: newStore("hubble_drop_total", "Number of drops",
			append(b.ctx.names(), "reason", "protocol"), b.ctx.namesEndpoints(), limit),
		reasons: newNameCache(dropReasonName),
	}
}

func (h *dropHandler) stores() []*store { return []*store{h.drops} }

func (h *dropHandler) observe(ev *event) {
	if flowpb.Verdict(ev.Rec.Verdict) != flowpb.Verdict_DROPPED || !h.match(ev) {
		return
	}
	k := h.ctx.appendValues(h.key[:0], ev)
	k = appendName(k, h.reasons.get(ev.Rec.DropReason))
	k = appendName(k, protocolName(ev))
	h.drops.inc(k, ev.now)
	h.key = k
}
