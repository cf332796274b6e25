package flowmetrics

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// retinaRcodeNames are the DNS response codes' names as Retina writes them;
// others are "".
var retinaRcodeNames = map[uint32]string{
	0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
}

// retinaDNSHandler counts the node's DNS queries and responses by query
// (networkobservability_dns_request_count, _dns_response_count). Query
// names are unbounded, so the series expire.
type retinaDNSHandler struct {
	requests, responses *store
	key                 []byte
}

func newRetinaDNSHandler(limit int) handler {
	return &retinaDNSHandler{
		requests: newStore(retinaPrefix+"dns_request_count", "DNS requests by statistics",
			[]string{"query_type", "query"}, true, limit),
		responses: newStore(retinaPrefix+"dns_response_count", "DNS responses by statistics",
			[]string{"return_code", "query_type", "query", "response", "num_response"}, true, limit),
	}
}

func (h *retinaDNSHandler) stores() []*store { return []*store{h.requests, h.responses} }

func (h *retinaDNSHandler) observe(ev *event) {
	if ev.dns == nil || flowpb.Verdict(ev.Rec.Verdict) == flowpb.Verdict_DROPPED {
		return
	}
	h.key = appendRetinaDNS(h.key[:0], ev)
	if reply, _ := ev.Rec.Reply(); reply {
		h.responses.inc(h.key, ev.now)
	} else {
		h.requests.inc(h.key, ev.now)
	}
}

// appendRetinaDNS appends the DNS labels of a query (query_type, query) or
// a response (return_code, query_type, query, response: the addresses
// answered, num_response: the answers).
func appendRetinaDNS(k []byte, ev *event) []byte {
	dns := ev.dns
	reply, _ := ev.Rec.Reply()
	if reply {
		k = appendName(k, retinaRcodeNames[dns.GetRcode()])
	}
	at := len(k)
	k = endValue(appendJoined(beginValue(k), dns.GetQtypes()), at)
	k = appendValue(k, dns.GetQuery())
	if reply {
		at = len(k)
		k = endValue(appendJoined(beginValue(k), dns.GetIps()), at)
		k = appendUint(k, uint64(len(dns.GetRrtypes())))
	}
	return k
}

// retinaPrefix starts every Retina series.
const retinaPrefix = "networkobservability_"

// RetinaCounterNames are the counters of Retina's flow series whose names,
// Retina's contract, lack the _total of Prometheus' conventions.
var RetinaCounterNames = []string{
	retinaPrefix + "dns_request_count", retinaPrefix + "dns_response_count",
	retinaPrefix + "adv_forward_count", retinaPrefix + "adv_forward_bytes", retinaPrefix + "adv_drop_count",
	retinaPrefix + "adv_drop_bytes", retinaPrefix + "adv_tcpflags_count", retinaPrefix + "adv_tcpretrans_count",
	retinaPrefix + "adv_dns_request_count", retinaPrefix + "adv_dns_response_count",
	retinaPrefix + "adv_node_apiserver_no_response",
}

// RetinaHistogramNames are the histograms of Retina's flow series.
var RetinaHistogramNames = []string{
	retinaPrefix + "adv_node_apiserver_latency", retinaPrefix + "adv_node_apiserver_tcp_handshake_latency",
}
