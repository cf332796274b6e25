package filters

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

// FuzzCEL: any CEL expression compiles or fails with an error, and one that
// compiles evaluates against flows of every kind without panicking.
func FuzzCEL(f *testing.F) {
	for _, s := range []string{
		`_flow.verdict == Verdict.DROPPED`,
		`_flow.source.namespace.startsWith("kube") && _flow.l4.TCP.destination_port == 443u`,
		`size(_flow.source.labels) > 2`,
		`_flow.l7.dns.query.matches("^a+$")`,
		`1/0 == 1`,
	} {
		f.Add(s)
	}
	n := testNode()
	events := []ev{
		{proto: record.ProtoTCP, tcp: record.TCPSyn, dport: 443, srcEP: &flowpb.Endpoint{Namespace: "kube-system", PodName: "a", Labels: []string{"k8s:app=a"}}},
		{kind: record.KindDrop, verdict: flowpb.Verdict_DROPPED, dropReason: flowpb.DropReason_POLICY_DENIED, src: "::1", dst: "::2"},
		{kind: record.KindL7, proto: record.ProtoUDP, dport: 53, dstNames: []string{"kube-dns.kube-system.svc.cluster.local"}},
	}
	f.Fuzz(func(t *testing.T, expr string) {
		ff := &flowpb.FlowFilter{Experimental: &flowpb.FlowFilter_Experimental{CelExpression: []string{expr}}}
		fn, err := Build([]*flowpb.FlowFilter{ff}, nil)
		if err != nil {
			return
		}
		for _, d := range events {
			fn(d.build(n))
		}
		fn(lostEvent(n))
	})
}
