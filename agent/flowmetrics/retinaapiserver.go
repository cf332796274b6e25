package flowmetrics

import (
	"net/netip"
	"slices"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/model/record"
)

// apiServerBuckets are Retina's, in milliseconds: 0 to 4.5 in steps of 0.5.
var apiServerBuckets = prometheus.LinearBuckets(0, 0.5, 10)

// retinaAPIServerHandler counts Retina's node-level API-server series from
// the datapath's handshakes, never by probing: the handshake latency of
// each SYN-ACK from an API-server address as it reaches the node
// (FROM_NETWORK, as Retina's eth0), and each SYN the node's or a pod's
// socket retransmitted to one: a SYN no SYN-ACK answered within TCP's
// retransmission timeout (1 s for a first SYN).
type retinaAPIServerHandler struct {
	// addrs are the API server's addresses given to the agent; addresses
	// the endpoints index labels reserved:kube-apiserver are too.
	addrs              map[netip.Addr]bool
	latency, handshake *histogram
	noResponse         *store
	key                []byte
}

func newRetinaAPIServerHandler(addrs []netip.Addr, limit int) *retinaAPIServerHandler {
	set := make(map[netip.Addr]bool, len(addrs))
	for _, a := range addrs {
		set[a.Unmap()] = true
	}
	h := &retinaAPIServerHandler{
		addrs:     set,
		latency:   newHistogram(retinaPrefix+"adv_node_apiserver_latency", "Latency of node apiserver in ms", apiServerBuckets),
		handshake: newHistogram(retinaPrefix+"adv_node_apiserver_tcp_handshake_latency", "Latency of node apiserver tcp handshake in ms", apiServerBuckets),
		// Retina's counter has a label of its name, whose one value is
		// its name too; dashboards may select it.
		noResponse: newStore(retinaPrefix+"adv_node_apiserver_no_response", "Number of packets that did not get a response from node apiserver",
			[]string{"no_response"}, false, limit),
		key: appendName(nil, "no_response"),
	}
	// The counter's one series exists from the start, so that a rate sees
	// its first increment.
	h.noResponse.add(h.key, 0, 0)
	return h
}

func (h *retinaAPIServerHandler) stores() []*store { return []*store{h.noResponse} }

func (h *retinaAPIServerHandler) histograms() []*histogram {
	return []*histogram{h.latency, h.handshake}
}

func (h *retinaAPIServerHandler) observe(ev *event) {
	r := &ev.Rec
	if r.Kind != record.KindTrace || r.Proto != record.ProtoTCP || r.TCPFlags&record.TCPSyn == 0 {
		return
	}
	switch {
	case r.Retransmit:
		if r.TCPFlags&record.TCPAck == 0 && h.isAPIServer(r.DstAddr(), ev.DstEndpoint()) {
			h.noResponse.inc(h.key, ev.now)
		}
	case flowpb.TraceObservationPoint(r.ObsPoint) == flowpb.TraceObservationPoint_FROM_NETWORK:
		// Retina times any request and its reply, matched by TCP
		// timestamps; the datapath times handshakes, which both
		// histograms get.
		if d := r.Handshake(); d > 0 && h.isAPIServer(r.SrcAddr(), ev.SrcEndpoint()) {
			ms := float64(d.Microseconds()) / 1000
			h.latency.observe(ms)
			h.handshake.observe(ms)
		}
	}
}

func (h *retinaAPIServerHandler) isAPIServer(a netip.Addr, ep *flowpb.Endpoint) bool {
	return h.addrs[a] || slices.Contains(ep.GetLabels(), endpoints.LabelKubeAPIServer)
}
