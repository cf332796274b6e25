package flowmetrics

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

// The flows-to-world handler's own options.
const (
	optAnyDrop = "any-drop" // count every drop, not only policy denials
	optPort    = "port"     // add the destination port as a label
	optSynOnly = "syn-only" // count only TCP SYNs that are not replies
)

// worldHandler counts flows to endpoints outside the cluster
// (hubble_flows_to_world_total): requests, not replies, and drops by
// policy unless any-drop is set.
type worldHandler struct {
	base
	anyDrop, port, synOnly bool
	flows                  *store
}

func newWorldHandler(b base, flags map[string]bool, limit int) handler {
	h := &worldHandler{base: b, anyDrop: flags[optAnyDrop], port: flags[optPort], synOnly: flags[optSynOnly]}
	own := []string{"protocol", "verdict"}
	if h.port {
		own = append(own, "port")
	}
	h.flows = newStore("hubble_flows_to_world_total", "Total number of flows to reserved:world",
		b.labels(own...), b.ctx.namesEndpoints(), limit)
	return h
}

func (h *worldHandler) stores() []*store { return []*store{h.flows} }

func (h *worldHandler) observe(ev *event) {
	r := &ev.Rec
	if !hasL4(r) || !isWorld(ev.DstEndpoint().GetLabels()) {
		return
	}
	dropped := flowpb.Verdict(r.Verdict) == flowpb.Verdict_DROPPED
	if dropped && !h.anyDrop && flowpb.DropReason(r.DropReason) != flowpb.DropReason_POLICY_DENIED {
		return
	}
	// A forwarded reply's destination port is a client's ephemeral one.
	reply, known := r.Reply()
	reply = reply && known
	if !dropped && reply {
		return
	}
	if h.synOnly && (reply || !isSYN(r)) {
		return
	}
	if !h.match(ev) {
		return
	}
	k := appendName(h.key[:0], protocolName(ev))
	k = appendName(k, verdictNames[r.Verdict])
	if h.port {
		switch r.Proto {
		case record.ProtoTCP, record.ProtoUDP, record.ProtoSCTP:
			k = appendUint(k, uint64(r.DstPort))
		default:
			k = appendName(k, "")
		}
	}
	k = h.ctx.appendValues(k, ev)
	h.flows.inc(k, ev.now)
	h.key = k
}

// isSYN reports whether the flow shows a TCP SYN; L7 flows show no flags.
func isSYN(r *record.Record) bool {
	return r.Proto == record.ProtoTCP && r.Kind != record.KindL7 && r.TCPFlags&record.TCPSyn != 0
}
