package filters

import (
	"slices"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

// TestRecordPathAgreesWithFlow checks that the record fast path answers as
// Hubble's rule would on the flow the event builds, so filters agree with
// what clients are sent.
func TestRecordPathAgreesWithFlow(t *testing.T) {
	n := testNode()
	pod := &flowpb.Endpoint{Namespace: "demo", PodName: "web-1", Identity: 7}
	events := []ev{
		{proto: record.ProtoTCP, tcp: record.TCPSyn | record.TCPAck, sport: 443, dport: 40000, reply: ptr(true), verdict: flowpb.Verdict_FORWARDED, srcEP: pod},
		{proto: record.ProtoUDP, dport: 53, reply: ptr(false), verdict: flowpb.Verdict_FORWARDED, dstEP: pod, src: "fd00::1", dst: "fd00::2"},
		{kind: record.KindDrop, proto: record.ProtoTCP, tcp: record.TCPSyn, dport: 80, verdict: flowpb.Verdict_DROPPED, dropReason: flowpb.DropReason_POLICY_DENIED},
		{proto: record.ProtoICMP, verdict: flowpb.Verdict_FORWARDED, obs: flowpb.TraceObservationPoint_FROM_ENDPOINT},
		{kind: record.KindL7, proto: record.ProtoUDP, dport: 53, verdict: flowpb.Verdict_FORWARDED, dstNames: []string{"a.example.com"}},
	}
	type check struct {
		ff  *flowpb.FlowFilter
		ref func(*flowpb.Flow) bool
	}
	checks := []check{
		{&flowpb.FlowFilter{SourceIp: []string{"10.0.0.1"}}, func(f *flowpb.Flow) bool { return f.GetIP().GetSource() == "10.0.0.1" }},
		{&flowpb.FlowFilter{DestinationPort: []string{"53"}}, func(f *flowpb.Flow) bool {
			return f.GetL4().GetUDP().GetDestinationPort() == 53 || f.GetL4().GetTCP().GetDestinationPort() == 53
		}},
		{&flowpb.FlowFilter{Protocol: []string{"tcp"}}, func(f *flowpb.Flow) bool { return f.GetL4().GetTCP() != nil }},
		{&flowpb.FlowFilter{Protocol: []string{"icmp"}}, func(f *flowpb.Flow) bool {
			return f.GetL4().GetICMPv4() != nil || f.GetL4().GetICMPv6() != nil
		}},
		{&flowpb.FlowFilter{Verdict: []flowpb.Verdict{flowpb.Verdict_DROPPED}}, func(f *flowpb.Flow) bool { return f.GetVerdict() == flowpb.Verdict_DROPPED }},
		{&flowpb.FlowFilter{Reply: []bool{false}}, func(f *flowpb.Flow) bool {
			if f.GetIsReply() == nil && f.GetVerdict() != flowpb.Verdict_DROPPED {
				return false
			}
			return !f.GetIsReply().GetValue()
		}},
		{&flowpb.FlowFilter{TcpFlags: []*flowpb.TCPFlags{{SYN: true}}}, func(f *flowpb.Flow) bool { return f.GetL4().GetTCP().GetFlags().GetSYN() }},
		{&flowpb.FlowFilter{IpVersion: []flowpb.IPVersion{flowpb.IPVersion_IPv6}}, func(f *flowpb.Flow) bool { return f.GetIP().GetIpVersion() == flowpb.IPVersion_IPv6 }},
		{&flowpb.FlowFilter{SourcePod: []string{"demo/web"}}, func(f *flowpb.Flow) bool {
			return f.GetSource().GetNamespace() == "demo" && f.GetSource().GetPodName() == "web-1"
		}},
		{&flowpb.FlowFilter{DestinationIdentity: []uint32{7}}, func(f *flowpb.Flow) bool { return f.GetDestination().GetIdentity() == 7 }},
		{&flowpb.FlowFilter{DropReasonDesc: []flowpb.DropReason{flowpb.DropReason_POLICY_DENIED}}, func(f *flowpb.Flow) bool {
			return f.GetVerdict() == flowpb.Verdict_DROPPED && f.GetDropReasonDesc() == flowpb.DropReason_POLICY_DENIED
		}},
		{&flowpb.FlowFilter{EventType: []*flowpb.EventTypeFilter{{Type: 1}}}, func(f *flowpb.Flow) bool { return f.GetEventType().GetType() == 1 }},
		{&flowpb.FlowFilter{EventType: []*flowpb.EventTypeFilter{{Type: 4, SubType: 5, MatchSubType: true}}}, func(f *flowpb.Flow) bool {
			return f.GetEventType().GetType() == 4 && f.GetEventType().GetSubType() == 5
		}},
		{&flowpb.FlowFilter{DestinationFqdn: []string{"a.example.com"}}, func(f *flowpb.Flow) bool {
			return slices.Contains(f.GetDestinationNames(), "a.example.com")
		}},
	}
	for _, c := range checks {
		fn := mustBuild(t, c.ff)
		for i, d := range events {
			e := d.build(n)
			if got, want := fn(e), c.ref(e.Flow()); got != want {
				t.Errorf("%v on event %d: record path %v, flow %v", c.ff, i, got, want)
			}
		}
	}
}
