package flowmetrics

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

// retinaFlagNames are Retina's TCP flag names, by bit of record.TCPFlags.
var retinaFlagNames = [...]struct {
	bit  uint16
	name string
}{
	{record.TCPFin, "FIN"}, {record.TCPSyn, "SYN"}, {record.TCPRst, "RST"}, {record.TCPPsh, "PSH"},
	{record.TCPAck, "ACK"}, {record.TCPUrg, "URG"}, {record.TCPEce, "ECE"}, {record.TCPCwr, "CWR"}, {record.TCPNs, "NS"},
}

// retinaAdvHandler counts Retina's pod-level series (adv_*) for the pods
// its context selects. A packet is counted where it leaves or reaches its
// pod — FROM_ENDPOINT, egress of its source; TO_ENDPOINT, ingress of its
// destination — so a pod-to-pod packet counts once for each pod and never
// again at the node's uplink. Their labels name pods: the series expire.
type retinaAdvHandler struct {
	ctx                                  retinaContext
	forward, forwardBytes, drop, dropB   *store
	flags, retrans, dnsRequest, dnsReply *store
	key, tail                            []byte
}

func newRetinaAdvHandler(ctx retinaContext, limit int) handler {
	st := func(name, help string, own ...string) *store {
		return newStore(retinaPrefix+name, help, ctx.labels(own...), true, limit)
	}
	return &retinaAdvHandler{
		ctx:          ctx,
		forward:      st("adv_forward_count", "Total number of forwarded packets", "direction"),
		forwardBytes: st("adv_forward_bytes", "Total number of forwarded bytes", "direction"),
		drop:         st("adv_drop_count", "Total number of dropped packets", "direction", "reason"),
		dropB:        st("adv_drop_bytes", "Total number of dropped bytes", "direction", "reason"),
		flags:        st("adv_tcpflags_count", "Total number of packets by TCP flag", "flag"),
		retrans:      st("adv_tcpretrans_count", "Total number of TCP retransmitted packets"),
		dnsRequest:   st("adv_dns_request_count", "Total number of DNS query packets", "query_type", "query"),
		dnsReply: st("adv_dns_response_count", "Total number of DNS response packets",
			"return_code", "query_type", "query", "response", "num_response"),
	}
}

func (h *retinaAdvHandler) stores() []*store {
	return []*store{h.forward, h.forwardBytes, h.drop, h.dropB, h.flags, h.retrans, h.dnsRequest, h.dnsReply}
}

func (h *retinaAdvHandler) observe(ev *event) {
	r := &ev.Rec
	switch r.Kind {
	case record.KindTrace:
		if r.Retransmit {
			// The local stack's socket sent it: the source is the pod.
			if h.ctx.selects(ev.SrcEndpoint()) {
				h.key = h.ctx.appendValues(h.key[:0], ev, true)
				h.retrans.inc(h.key, ev.now)
			}
			return
		}
		h.observeTrace(ev)
	case record.KindDrop:
		source := r.Flags&record.FlagSent != 0
		if !h.selects(ev, source) {
			return
		}
		dir := "ingress"
		if source {
			dir = "egress"
		}
		reason := ""
		if names := ev.Node().Tables.Names.Get(r.Ext); len(names) == 1 {
			reason = names[0]
		}
		h.key = appendName(h.key[:0], dir)
		h.key = appendName(h.key, reason)
		h.key = h.ctx.appendValues(h.key, ev, source)
		h.drop.inc(h.key, ev.now)
		h.dropB.add(h.key, uint64(r.Bytes), ev.now)
	case record.KindL7:
		if ev.dns == nil || flowpb.Verdict(r.Verdict) == flowpb.Verdict_DROPPED {
			return
		}
		// The pod that asked: the source of a query, the destination
		// of a response.
		reply, _ := r.Reply()
		if !h.selects(ev, !reply) {
			return
		}
		h.key = appendRetinaDNS(h.key[:0], ev)
		h.key = h.ctx.appendValues(h.key, ev, !reply)
		if reply {
			h.dnsReply.inc(h.key, ev.now)
		} else {
			h.dnsRequest.inc(h.key, ev.now)
		}
	}
}

// observeTrace counts a packet where it left or reached its pod.
func (h *retinaAdvHandler) observeTrace(ev *event) {
	r := &ev.Rec
	var source bool
	switch flowpb.TraceObservationPoint(r.ObsPoint) {
	case flowpb.TraceObservationPoint_FROM_ENDPOINT:
		source = true
	case flowpb.TraceObservationPoint_TO_ENDPOINT:
	default:
		return
	}
	if !countable(r.Verdict) || !h.selects(ev, source) {
		return
	}
	dir := "ingress"
	if source {
		dir = "egress"
	}
	h.key = appendName(h.key[:0], dir)
	h.key = h.ctx.appendValues(h.key, ev, source)
	// An aggregated report stands for Count packets.
	h.forward.add(h.key, uint64(max(r.Count, 1)), ev.now)
	h.forwardBytes.add(h.key, uint64(r.Bytes), ev.now)
	if r.Proto != record.ProtoTCP {
		return
	}
	h.tail = h.ctx.appendValues(h.tail[:0], ev, source)
	for _, f := range retinaFlagNames {
		if r.TCPFlags&f.bit != 0 {
			h.key = append(appendName(h.key[:0], f.name), h.tail...)
			h.flags.inc(h.key, ev.now)
		}
	}
}

// selects reports whether the pod on ev's source (or destination) side is
// one the context counts.
func (h *retinaAdvHandler) selects(ev *event, source bool) bool {
	if source {
		return h.ctx.selects(ev.SrcEndpoint())
	}
	return h.ctx.selects(ev.DstEndpoint())
}
