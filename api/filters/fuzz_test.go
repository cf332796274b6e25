package filters

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/proto"

	"github.com/foveanet/fovea/model/record"
)

func FuzzBuild(f *testing.F) {
	for _, ff := range []*flowpb.FlowFilter{
		{SourceIp: []string{"10.0.0.0/8"}, DestinationPort: []string{"53"}},
		{SourcePod: []string{"demo/"}, Reply: []bool{false}},
		{SourceLabel: []string{"k8s:app in (a, b), !reserved:host"}, NodeLabels: []string{"x"}},
		{DestinationFqdn: []string{"*.cluster.local*"}, NodeName: []string{"prod/node-*"}},
		{EventType: []*flowpb.EventTypeFilter{{Type: 129}}, HttpStatusCode: []string{"5+"}, HttpPath: []string{"^/api"}},
		{TcpFlags: []*flowpb.TCPFlags{{SYN: true}}, Protocol: []string{"tcp", "dns"}},
		{Experimental: &flowpb.FlowFilter_Experimental{CelExpression: []string{`_flow.verdict == Verdict.DROPPED`}}},
	} {
		b, err := proto.Marshal(ff)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	n := testNode()
	events := []ev{
		{proto: record.ProtoTCP, tcp: record.TCPSyn, dport: 80, srcEP: &flowpb.Endpoint{Namespace: "demo", PodName: "a", Labels: []string{"k8s:app=a"}}},
		{kind: record.KindDrop, verdict: flowpb.Verdict_DROPPED, dropReason: flowpb.DropReason_POLICY_DENIED, src: "::1", dst: "::2"},
		{kind: record.KindL7, proto: record.ProtoUDP, dport: 53, dstNames: []string{"kube-dns.kube-system.svc.cluster.local"}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ff flowpb.FlowFilter
		if err := proto.Unmarshal(data, &ff); err != nil {
			return
		}
		fn, err := Build([]*flowpb.FlowFilter{&ff}, []*flowpb.FlowFilter{&ff})
		if err != nil {
			return
		}
		for _, d := range events {
			fn(d.build(n))
		}
		fn(lostEvent(n))
	})
}
