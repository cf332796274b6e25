package flowmetrics

import (
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

func httpL7(typ flowpb.L7FlowType, method string, code uint32, latency time.Duration) *flowpb.Layer7 {
	return &flowpb.Layer7{Type: typ, LatencyNs: uint64(latency), Record: &flowpb.Layer7_Http{Http: &flowpb.HTTP{
		Method: method, Url: "http://cart/api", Protocol: "HTTP/1.1", Code: code,
	}}}
}

// httpFlows are a frontend pod's requests to a cart pod, each reported on
// both sides as the datapath reports them: at the client pod's interface
// (egress) and the server pod's (ingress).
var httpFlows = func() []rec {
	var out []rec
	for _, x := range []struct {
		method  string
		code    uint32
		latency time.Duration
	}{{"GET", 200, 3 * time.Millisecond}, {"GET", 200, 120 * time.Millisecond}, {"POST", 500, 40 * time.Millisecond}} {
		req := httpL7(flowpb.L7FlowType_REQUEST, x.method, 0, 0)
		resp := httpL7(flowpb.L7FlowType_RESPONSE, x.method, x.code, x.latency)
		out = append(out,
			rec{kind: record.KindL7, src: "10.0.0.1", dst: "10.0.0.2", sport: 40000, dport: 8080, proto: record.ProtoTCP, obs: fromEndpoint, reply: no, srcEP: podA, dstEP: podB, http: req},
			rec{kind: record.KindL7, src: "10.0.0.1", dst: "10.0.0.2", sport: 40000, dport: 8080, proto: record.ProtoTCP, obs: toEndpoint, reply: no, srcEP: podA, dstEP: podB, http: req},
			rec{kind: record.KindL7, src: "10.0.0.2", dst: "10.0.0.1", sport: 8080, dport: 40000, proto: record.ProtoTCP, obs: fromEndpoint, reply: yes, srcEP: podB, dstEP: podA, http: resp},
			rec{kind: record.KindL7, src: "10.0.0.2", dst: "10.0.0.1", sport: 8080, dport: 40000, proto: record.ProtoTCP, obs: toEndpoint, reply: yes, srcEP: podB, dstEP: podA, http: resp},
		)
	}
	return out
}()

// TestHTTPGolden: http counts requests and responses by method, protocol,
// status and reporter; httpV2 counts responses, its context labelled by the
// request's ends (the client as source); both time responses.
func TestHTTPGolden(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for _, c := range []struct{ spec, golden string }{
		{"http flow", "http.golden"},
		{"httpV2:exemplars=true;sourceContext=workload-name;destinationContext=workload-name;labelsContext=source_namespace,destination_pod", "httpv2.golden"},
	} {
		n := testNode(t)
		m := newTestMetrics(t, c.spec, n, &now)
		feed(m, n, append(httpFlows, sampleFlows...)...)
		golden(t, c.golden, scrape(t, m.FlowCollector()))
	}
}
