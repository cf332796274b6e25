package flowmetrics

import (
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

// flowHandler counts every flow by protocol, event type and sub-type and
// verdict (hubble_flows_processed_total).
type flowHandler struct {
	base
	flows *store
}

func newFlowHandler(b base, _ map[string]bool, limit int) handler {
	return &flowHandler{base: b, flows: newStore("hubble_flows_processed_total", "Total number of flows processed",
		b.labels("protocol", "type", "subtype", "verdict"), b.ctx.namesEndpoints(), limit)}
}

func (h *flowHandler) stores() []*store { return []*store{h.flows} }

func (h *flowHandler) observe(ev *event) {
	if !h.match(ev) {
		return
	}
	typ, sub := flowTypeNames(ev)
	k := appendName(h.key[:0], protocolName(ev))
	k = appendName(k, typ)
	k = appendName(k, sub)
	k = appendName(k, verdictNames[ev.Rec.Verdict])
	k = h.ctx.appendValues(k, ev)
	h.flows.inc(k, ev.now)
	h.key = k
}

// flowTypeNames are the type and subtype labels: the event type's name, and
// for traces the observation point's, for L7 flows the L7 protocol's.
func flowTypeNames(ev *event) (typ, sub string) {
	switch ev.Rec.Kind {
	case record.KindL7:
		switch {
		case ev.dns != nil:
			return "L7", "DNS"
		case ev.http != nil:
			return "L7", "HTTP"
		}
		return "L7", ""
	case record.KindDrop:
		return "Drop", ""
	case record.KindPolicyVerdict:
		return "PolicyVerdict", ""
	case record.KindTrace:
		if _, st, _ := flowview.EventType(&ev.Rec); st >= 0 && int(st) < len(traceSubtypeNames) {
			return "Trace", traceSubtypeNames[st]
		}
		return "Trace", ""
	}
	return "Unknown", ""
}
