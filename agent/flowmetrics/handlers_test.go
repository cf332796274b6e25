package flowmetrics

import (
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

const (
	fromEndpoint = flowpb.TraceObservationPoint_FROM_ENDPOINT
	toEndpoint   = flowpb.TraceObservationPoint_TO_ENDPOINT
	toNetwork    = flowpb.TraceObservationPoint_TO_NETWORK
	fromNetwork  = flowpb.TraceObservationPoint_FROM_NETWORK
	toStack      = flowpb.TraceObservationPoint_TO_STACK
	dropped      = flowpb.Verdict_DROPPED
	syn          = record.TCPSyn
	ack          = record.TCPAck
	fin          = record.TCPFin
	rst          = record.TCPRst
	psh          = record.TCPPsh
)

// sampleFlows cover what each handler counts and leaves out.
var sampleFlows = []rec{
	// A TCP connection between two pods, seen leaving one and entering the
	// other: SYN, SYN-ACK, data, FIN, and a reset.
	{src: "10.0.0.1", dst: "10.0.0.2", sport: 40000, dport: 8080, proto: record.ProtoTCP, tcp: syn, obs: fromEndpoint, reply: no, srcEP: podA, dstEP: podB},
	{src: "10.0.0.1", dst: "10.0.0.2", sport: 40000, dport: 8080, proto: record.ProtoTCP, tcp: syn, obs: toEndpoint, reply: no, srcEP: podA, dstEP: podB},
	{src: "10.0.0.2", dst: "10.0.0.1", sport: 8080, dport: 40000, proto: record.ProtoTCP, tcp: syn | ack, obs: fromEndpoint, reply: yes, srcEP: podB, dstEP: podA},
	{src: "10.0.0.1", dst: "10.0.0.2", sport: 40000, dport: 8080, proto: record.ProtoTCP, tcp: psh | ack, obs: fromEndpoint, reply: no, srcEP: podA, dstEP: podB},
	{src: "10.0.0.1", dst: "10.0.0.2", sport: 40000, dport: 8080, proto: record.ProtoTCP, tcp: fin | ack, obs: fromEndpoint, reply: no, srcEP: podA, dstEP: podB},
	{src: "10.0.0.2", dst: "10.0.0.1", sport: 8080, dport: 40001, proto: record.ProtoTCP, tcp: rst, obs: fromEndpoint, reply: yes, srcEP: podB, dstEP: podA},
	// IPv6, and a SYN whose direction connection tracking does not know.
	{src: "fd00::1", dst: "fd00::2", sport: 40002, dport: 443, proto: record.ProtoTCP, tcp: syn, obs: toStack, reply: no, srcEP: podA, dstEP: podB},
	{src: "10.0.0.1", dst: "10.0.0.9", sport: 40003, dport: 9090, proto: record.ProtoTCP, tcp: syn, obs: fromEndpoint, srcEP: podA},
	// DNS: the UDP packets and their L7 records, a query and its answer,
	// an NXDOMAIN, an AAAA-only query, a query denied.
	{src: "10.0.0.1", dst: "10.0.0.53", sport: 50000, dport: 53, proto: record.ProtoUDP, obs: fromEndpoint, reply: no, srcEP: podA, dstEP: coreDNS},
	{kind: record.KindL7, src: "10.0.0.1", dst: "10.0.0.53", sport: 50000, dport: 53, proto: record.ProtoUDP, reply: no, srcEP: podA, dstEP: coreDNS,
		dns: &flowpb.DNS{Query: "cart.shop.svc.cluster.local.", Qtypes: []string{"A"}}},
	{kind: record.KindL7, src: "10.0.0.53", dst: "10.0.0.1", sport: 53, dport: 50000, proto: record.ProtoUDP, reply: yes, srcEP: coreDNS, dstEP: podA,
		dns: &flowpb.DNS{Query: "cart.shop.svc.cluster.local.", Qtypes: []string{"A"}, Rcode: 0, Ips: []string{"10.0.0.2", "10.0.0.3"}, Rrtypes: []string{"A", "A"}}},
	{kind: record.KindL7, src: "10.0.0.53", dst: "10.0.0.1", sport: 53, dport: 50001, proto: record.ProtoUDP, reply: yes, srcEP: coreDNS, dstEP: podA,
		dns: &flowpb.DNS{Query: "nope.example.", Qtypes: []string{"A"}, Rcode: 3}},
	{kind: record.KindL7, src: "10.0.0.1", dst: "10.0.0.53", sport: 50002, dport: 53, proto: record.ProtoUDP, reply: no, srcEP: podA, dstEP: coreDNS,
		dns: &flowpb.DNS{Query: "api.example.", Qtypes: []string{"AAAA"}}},
	{kind: record.KindL7, src: "10.0.0.1", dst: "10.0.0.53", sport: 50003, dport: 53, proto: record.ProtoUDP, reply: no, verdict: dropped, srcEP: podA, dstEP: coreDNS,
		dns: &flowpb.DNS{Query: "evil.example.", Qtypes: []string{"A", "TXT"}}},
	// An L7 record whose details expired.
	{kind: record.KindL7, src: "10.0.0.1", dst: "10.0.0.53", sport: 50004, dport: 53, proto: record.ProtoUDP, reply: no, srcEP: podA, dstEP: coreDNS},
	// Drops: by policy, by the kernel, of ICMP.
	{kind: record.KindDrop, src: "10.0.0.1", dst: "10.0.0.2", sport: 40010, dport: 22, proto: record.ProtoTCP, tcp: syn, verdict: dropped,
		drop: flowpb.DropReason_POLICY_DENIED, srcEP: podA, dstEP: podB},
	{kind: record.KindDrop, src: "10.0.0.1", dst: "203.0.113.7", sport: 40011, dport: 443, proto: record.ProtoTCP, tcp: syn, verdict: dropped,
		drop: flowpb.DropReason_SOCKET_LOOKUP_FAILED, srcEP: podA, dstEP: world},
	{kind: record.KindDrop, src: "10.0.0.1", dst: "203.0.113.8", proto: record.ProtoICMP, icmpType: 8, verdict: dropped,
		drop: flowpb.DropReason_POLICY_DENIED, srcEP: podA, dstEP: world},
	// ICMP echo both ways, v4 and v6, and a destination unreachable.
	{src: "10.0.0.1", dst: "10.0.0.2", proto: record.ProtoICMP, icmpType: 8, obs: fromEndpoint, reply: no, srcEP: podA, dstEP: podB},
	{src: "10.0.0.2", dst: "10.0.0.1", proto: record.ProtoICMP, icmpType: 0, obs: fromEndpoint, reply: yes, srcEP: podB, dstEP: podA},
	{src: "fd00::1", dst: "fd00::2", proto: record.ProtoICMPv6, icmpType: 128, obs: fromEndpoint, reply: no, srcEP: podA, dstEP: podB},
	{src: "10.0.0.2", dst: "10.0.0.1", proto: record.ProtoICMP, icmpType: 3, obs: toEndpoint, srcEP: podB, dstEP: podA},
	// To the world: requests, a reply from it, the API server outside.
	{src: "10.0.0.1", dst: "203.0.113.7", sport: 40020, dport: 443, proto: record.ProtoTCP, tcp: syn, obs: toNetwork, reply: no, srcEP: podA, dstEP: world,
		dstNames: []string{"api.example.", "www.example."}},
	{src: "10.0.0.1", dst: "203.0.113.7", sport: 40020, dport: 443, proto: record.ProtoTCP, tcp: ack, obs: toNetwork, reply: no, srcEP: podA, dstEP: world,
		dstNames: []string{"api.example.", "www.example."}},
	{src: "203.0.113.7", dst: "10.0.0.1", sport: 443, dport: 40020, proto: record.ProtoTCP, tcp: syn | ack, obs: fromNetwork, reply: yes, srcEP: world, dstEP: podA},
	{src: "10.0.0.1", dst: "198.51.100.1", sport: 40021, dport: 6443, proto: record.ProtoTCP, tcp: syn, obs: toNetwork, reply: no, srcEP: podA, dstEP: apiServer},
	{src: "10.0.0.1", dst: "203.0.113.9", sport: 40022, dport: 123, proto: record.ProtoUDP, obs: toNetwork, reply: no, srcEP: podA, dstEP: world},
	// A protocol without an L4 layer in flows.
	{src: "10.0.0.1", dst: "224.0.0.18", proto: 112, obs: toNetwork, srcEP: podA, dstEP: world},
	// Policy verdicts: allowed by an L3/L4 rule, audited and denied by
	// isolation, and one from the host, which Cilium's handler skips.
	{kind: record.KindPolicyVerdict, src: "10.0.0.1", dst: "10.0.0.2", sport: 40030, dport: 8080, proto: record.ProtoTCP, tcp: syn,
		reply: no, match: 2, srcEP: podA, dstEP: podB},
	{kind: record.KindPolicyVerdict, src: "10.0.0.1", dst: "10.0.0.2", sport: 40031, dport: 9090, proto: record.ProtoTCP, tcp: syn,
		reply: no, verdict: flowpb.Verdict_AUDIT, srcEP: podA, dstEP: podB},
	{kind: record.KindPolicyVerdict, src: "10.0.0.1", dst: "203.0.113.7", sport: 40032, dport: 443, proto: record.ProtoTCP, tcp: syn,
		verdict: dropped, drop: flowpb.DropReason_POLICY_DENIED, policyEgress: true, srcEP: podA, dstEP: world},
	{kind: record.KindPolicyVerdict, src: "10.0.0.9", dst: "10.0.0.2", sport: 40033, dport: 8080, proto: record.ProtoTCP, tcp: syn,
		reply: no, match: 4, srcEP: host, dstEP: podB},
	// Events the datapath lost.
	{kind: record.KindLost, lost: 5},
}

func TestHandlersGolden(t *testing.T) {
	now := time.Unix(1700000000, 0)
	n := testNode(t)
	m := newTestMetrics(t, "flow drop tcp dns port-distribution icmp flows-to-world", n, &now)
	feed(m, n, sampleFlows...)
	golden(t, "handlers.golden", scrape(t, m.FlowCollector()))
}

func TestContextGolden(t *testing.T) {
	now := time.Unix(1700000000, 0)
	n := testNode(t)
	m := newTestMetrics(t, "flow:sourceContext=pod|ip;destinationContext=workload|dns|reserved-identity;labelsContext=source_namespace,traffic_direction "+
		"drop:sourceContext=app;destinationContext=identity "+
		"dns:query;ignoreAAAA;sourceContext=pod-name;destinationEgressContext=namespace;destinationIngressContext=workload-name "+
		"flows-to-world:port;any-drop;sourceContext=namespace;destinationContext=dns|ip "+
		"tcp:sourceIngressContext=ip;labelsContext=source_workload,source_workload_kind,destination_app,destination_ip", n, &now)
	feed(m, n, sampleFlows...)
	golden(t, "context.golden", scrape(t, m.FlowCollector()))
}

func TestFlowsToWorldSynOnly(t *testing.T) {
	now := time.Unix(1700000000, 0)
	n := testNode(t)
	m := newTestMetrics(t, "flows-to-world:syn-only", n, &now)
	feed(m, n, sampleFlows...)
	golden(t, "syn-only.golden", scrape(t, m.FlowCollector()))
}

// TestFilters: a metric counts only the flows its include filters match
// and its exclude filters do not, as a GetFlows whitelist and blacklist.
func TestFilters(t *testing.T) {
	now := time.Unix(1700000000, 0)
	n := testNode(t)
	cfg := Config{Metrics: []MetricConfig{
		{Name: "flow", IncludeFilters: []*flowpb.FlowFilter{{SourcePod: []string{"shop/"}}},
			ExcludeFilters: []*flowpb.FlowFilter{{Protocol: []string{"icmp"}}, {Verdict: []flowpb.Verdict{dropped}}}},
		{Name: "icmp"},
	}}
	m, err := New(cfg, n, WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	feed(m, n, sampleFlows...)
	golden(t, "filters.golden", scrape(t, m.FlowCollector()))

	cfg.Metrics[0].IncludeFilters = []*flowpb.FlowFilter{{SourceIp: []string{"not-an-ip"}}}
	if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), "metric flow: build filters: ") {
		t.Fatalf("bad filter: %v", err)
	}
}
