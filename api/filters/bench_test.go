package filters

import (
	"strings"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

// recordFilters use only the record, the intern tables and the node: they
// must not build the flow nor allocate.
var recordFilters = map[string]*flowpb.FlowFilter{
	"ip":         {SourceIp: []string{"10.0.0.0/8", "10.1.2.3"}, DestinationIp: []string{"10.0.0.2"}},
	"port":       {DestinationPort: []string{"443", "80"}},
	"protocol":   {Protocol: []string{"udp", "tcp"}},
	"verdict":    {Verdict: []flowpb.Verdict{flowpb.Verdict_FORWARDED}, Reply: []bool{false}},
	"event_type": {EventType: []*flowpb.EventTypeFilter{{Type: 4, SubType: 0, MatchSubType: true}}},
	"tcp_flags":  {TcpFlags: []*flowpb.TCPFlags{{SYN: true}}},
	"pod":        {SourcePod: []string{"demo/"}, DestinationPod: []string{"/api"}},
	"labels":     {SourceLabel: []string{"k8s:app in (web, api), !reserved:host"}},
	"fqdn":       {DestinationFqdn: []string{"*.example.com"}},
	"node":       {NodeName: []string{"prod/node-*"}, NodeLabels: []string{"kubernetes.io/arch=amd64"}},
	"identity":   {SourceIdentity: []uint32{1, 1234}, SourceWorkload: []*flowpb.Workload{{Name: "web"}}},
	"ui-default": {SourcePod: []string{"demo/"}, Reply: []bool{false}},
}

func benchEvent(n *flowview.Node) *flowview.Flow {
	return ev{
		proto: record.ProtoTCP, tcp: record.TCPSyn, sport: 40000, dport: 443,
		verdict: flowpb.Verdict_FORWARDED, obs: flowpb.TraceObservationPoint_TO_ENDPOINT, reply: ptr(false),
		srcEP: &flowpb.Endpoint{
			Identity: 1234, Namespace: "demo", PodName: "web-1",
			Labels:    []string{"k8s:io.kubernetes.pod.namespace=demo", "k8s:app=web", "k8s:io.cilium.k8s.policy.cluster=prod"},
			Workloads: []*flowpb.Workload{{Kind: "Deployment", Name: "web"}},
		},
		dstEP:    &flowpb.Endpoint{Namespace: "demo", PodName: "api-0"},
		dstNames: []string{"api.example.com"},
	}.build(n)
}

func TestRecordFiltersDoNotAllocate(t *testing.T) {
	n := testNode()
	e := benchEvent(n)
	for name, ff := range recordFilters {
		f := mustBuild(t, ff)
		if !f(e) {
			t.Errorf("%s: benchmark event does not match", name)
		}
		if allocs := testing.AllocsPerRun(100, func() { f(e) }); allocs != 0 {
			t.Errorf("%s: %v allocations per evaluation", name, allocs)
		}
	}
}

func BenchmarkRecordFilters(b *testing.B) {
	n := testNode()
	e := benchEvent(n)
	for name, ff := range recordFilters {
		f, err := Build([]*flowpb.FlowFilter{ff}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f(e)
			}
		})
	}
}

func BenchmarkHubbleUIDefault(b *testing.B) {
	n := testNode()
	e := benchEvent(n)
	allow := []*flowpb.FlowFilter{
		{SourcePod: []string{"demo/"}, Reply: []bool{false}},
		{DestinationPod: []string{"demo/"}, Reply: []bool{false}},
	}
	deny := []*flowpb.FlowFilter{
		{SourceLabel: []string{"reserved:unknown", "reserved:host", "reserved:remote-node", "k8s:app=prometheus", "k8s:k8s-app=kube-dns"}},
		{DestinationLabel: []string{"reserved:unknown", "reserved:host", "reserved:remote-node", "k8s:app=prometheus", "k8s:k8s-app=kube-dns"}},
		{DestinationFqdn: []string{"*.cluster.local*"}},
	}
	f, err := Build(allow, deny)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		f(e)
	}
}

// BenchmarkCELAtCostLimit is the worst case CEL evaluation of one flow: a
// request's MaxCELExpressions expressions each running into CELCostLimit.
func BenchmarkCELAtCostLimit(b *testing.B) {
	exprs := make([]string, MaxCELExpressions)
	for i := range exprs {
		exprs[i] = nestedComprehension()
	}
	f, err := Build([]*flowpb.FlowFilter{{Experimental: &flowpb.FlowFilter_Experimental{CelExpression: exprs}}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	e := benchEvent(testNode())
	for b.Loop() {
		f(e)
	}
}

// BenchmarkBuildAtLimits builds a request using up the regexp, label
// selector and CEL budgets.
func BenchmarkBuildAtLimits(b *testing.B) {
	fill := func(n int, v string) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = v
		}
		return s
	}
	cel := "_flow.source.namespace in [" + strings.Repeat(`"demo-namespace",`, 235) + `"x"]`
	req := []*flowpb.FlowFilter{{
		DnsQuery:    fill(MaxValues, strings.Repeat("[a-z]", 6)), // 30 KiB, 8 instructions each
		SourceLabel: fill(MaxValues, "k8s:app in (web, api, db, cache, queue, proxy)"),
		NodeLabels:  fill(MaxValues/2, "kubernetes.io/arch in (amd64, arm64)"),
		Experimental: &flowpb.FlowFilter_Experimental{
			CelExpression: fill(MaxCELExpressions, cel),
		},
	}}
	if _, err := Build(req, nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Build(req, nil); err != nil {
			b.Fatal(err)
		}
	}
}
