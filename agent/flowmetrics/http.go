package flowmetrics

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// The http and httpV2 handlers' own option: Hubble's exemplars=true adds
// the flow's trace id to each observation. Fovea's flows carry no trace
// context, so it is accepted and changes nothing.
const optExemplars = "exemplars"

// httpBuckets are the Prometheus client's default buckets, which Hubble's
// hubble_http_request_duration_seconds uses.
var httpBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// httpHandler counts HTTP requests and responses as Hubble's http handler
// (v1: hubble_http_requests_total on requests, hubble_http_responses_total
// and the duration on responses) or httpV2 (on responses only:
// hubble_http_requests_total with the status, labelled by the request's
// ends, and the duration).
type httpHandler struct {
	base
	v2                            bool
	requests, responses, duration *store
}

func newHTTPHandler(b base, _ map[string]bool, limit int) handler {
	expires := b.ctx.namesEndpoints()
	h := &httpHandler{base: b}
	h.requests = newStore("hubble_http_requests_total", "Count of HTTP requests", b.labels("method", "protocol", "reporter"), expires, limit)
	h.responses = newStore("hubble_http_responses_total", "Count of HTTP responses", b.labels("method", "protocol", "status", "reporter"), expires, limit)
	h.duration = newHistogramStore("hubble_http_request_duration_seconds", "Quantiles of HTTP request duration in seconds",
		b.labels("method", "reporter"), httpBuckets, expires, limit)
	return h
}

func newHTTPV2Handler(b base, _ map[string]bool, limit int) handler {
	expires := b.ctx.namesEndpoints()
	return &httpHandler{
		base: b, v2: true,
		requests: newStore("hubble_http_requests_total", "Count of HTTP requests",
			b.labels("method", "protocol", "status", "reporter"), expires, limit),
		duration: newHistogramStore("hubble_http_request_duration_seconds", "Quantiles of HTTP request duration in seconds",
			b.labels("method", "reporter"), httpBuckets, expires, limit),
	}
}

func (h *httpHandler) stores() []*store {
	if h.v2 {
		return []*store{h.requests, h.duration}
	}
	return []*store{h.requests, h.responses, h.duration}
}

// reporterNames are the reporter label by traffic direction: the client's
// side reports its egress, the server's its ingress.
var reporterNames = map[flowpb.TrafficDirection]string{
	flowpb.TrafficDirection_EGRESS:  "client",
	flowpb.TrafficDirection_INGRESS: "server",
}

func (h *httpHandler) observe(ev *event) {
	if ev.http == nil {
		return
	}
	typ := ev.L7().GetType()
	if typ != flowpb.L7FlowType_RESPONSE && (h.v2 || typ != flowpb.L7FlowType_REQUEST) {
		return
	}
	if !h.match(ev) {
		return
	}
	reporter, ok := reporterNames[ev.dir]
	if !ok {
		reporter = "unknown"
	}
	http := ev.http
	k := appendValue(h.key[:0], http.GetMethod())
	if typ == flowpb.L7FlowType_REQUEST {
		k = appendValue(k, http.GetProtocol())
		k = appendName(k, reporter)
		k = h.ctx.appendValues(k, ev)
		h.requests.inc(k, ev.now)
		h.key = k
		return
	}
	k = appendValue(k, http.GetProtocol())
	k = appendUint(k, uint64(http.GetCode()))
	k = appendName(k, reporter)
	k = h.appendContext(k, ev)
	if h.v2 {
		h.requests.inc(k, ev.now)
	} else {
		h.responses.inc(k, ev.now)
	}
	k = appendValue(k[:0], http.GetMethod())
	k = appendName(k, reporter)
	k = h.appendContext(k, ev)
	h.duration.observe(k, float64(ev.L7().GetLatencyNs())/1e9, ev.now)
	h.key = k
}

// appendContext appends a response's context values: httpV2's labelled
// by the request's ends, http's by the response's.
func (h *httpHandler) appendContext(k []byte, ev *event) []byte {
	if h.v2 {
		return h.ctx.appendInvertedValues(k, ev)
	}
	return h.ctx.appendValues(k, ev)
}
