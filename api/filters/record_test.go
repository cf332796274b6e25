package filters

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

func TestVerdictAndDropReason(t *testing.T) {
	f := mustBuild(t, &flowpb.FlowFilter{Verdict: []flowpb.Verdict{flowpb.Verdict_DROPPED, flowpb.Verdict_ERROR}})
	checkEvents(t, f, []eventCase{
		{"dropped", ev{verdict: flowpb.Verdict_DROPPED}, true},
		{"forwarded", ev{verdict: flowpb.Verdict_FORWARDED}, false},
	})
	f = mustBuild(t, &flowpb.FlowFilter{DropReasonDesc: []flowpb.DropReason{flowpb.DropReason_POLICY_DENIED}})
	checkEvents(t, f, []eventCase{
		{"denied", ev{kind: record.KindDrop, verdict: flowpb.Verdict_DROPPED, dropReason: flowpb.DropReason_POLICY_DENIED}, true},
		{"other reason", ev{kind: record.KindDrop, verdict: flowpb.Verdict_DROPPED, dropReason: flowpb.DropReason_CT_NO_MAP_FOUND}, false},
		{"not dropped", ev{verdict: flowpb.Verdict_FORWARDED, dropReason: flowpb.DropReason_POLICY_DENIED}, false},
		{"L7 denial has no reason", ev{kind: record.KindL7, verdict: flowpb.Verdict_DROPPED, dropReason: flowpb.DropReason_POLICY_DENIED}, false},
	})
	f = mustBuild(t, &flowpb.FlowFilter{DropReasonDesc: []flowpb.DropReason{flowpb.DropReason_DROP_REASON_UNKNOWN}})
	checkEvents(t, f, []eventCase{
		{"L7 denial", ev{kind: record.KindL7, verdict: flowpb.Verdict_DROPPED}, true},
	})
}

func TestReplyFilter(t *testing.T) {
	f := mustBuild(t, &flowpb.FlowFilter{Reply: []bool{false}})
	checkEvents(t, f, []eventCase{
		{"request", ev{reply: ptr(false), verdict: flowpb.Verdict_FORWARDED}, true},
		{"reply", ev{reply: ptr(true), verdict: flowpb.Verdict_FORWARDED}, false},
		{"unknown forwarded", ev{verdict: flowpb.Verdict_FORWARDED}, false},
		{"unknown dropped counts as not a reply", ev{verdict: flowpb.Verdict_DROPPED}, true},
	})
	f = mustBuild(t, &flowpb.FlowFilter{Reply: []bool{true}})
	checkEvents(t, f, []eventCase{
		{"reply", ev{reply: ptr(true)}, true},
		{"unknown dropped", ev{verdict: flowpb.Verdict_DROPPED}, false},
	})
}

func TestProtocolFilter(t *testing.T) {
	f := mustBuild(t, &flowpb.FlowFilter{Protocol: []string{"TCP", "icmpv6"}})
	checkEvents(t, f, []eventCase{
		{"tcp", ev{proto: record.ProtoTCP}, true},
		{"udp", ev{proto: record.ProtoUDP}, false},
		{"icmpv6", ev{proto: record.ProtoICMPv6, src: "::1", dst: "::2"}, true},
		{"icmpv4", ev{proto: record.ProtoICMP}, false},
	})
	f = mustBuild(t, &flowpb.FlowFilter{Protocol: []string{"icmp", "vrrp", "igmp", "sctp"}})
	checkEvents(t, f, []eventCase{
		{"icmpv4", ev{proto: record.ProtoICMP}, true},
		{"icmpv6", ev{proto: record.ProtoICMPv6}, true},
		{"vrrp", ev{proto: 112}, true},
		{"igmp", ev{proto: 2}, true},
		{"sctp", ev{proto: record.ProtoSCTP}, true},
		{"tcp", ev{proto: record.ProtoTCP}, false},
	})
	// L7 protocols need an L7 event; trace events fail without a flow.
	f = mustBuild(t, &flowpb.FlowFilter{Protocol: []string{"dns", "http"}})
	checkEvents(t, f, []eventCase{{"trace", ev{proto: record.ProtoUDP, dport: 53}, false}})
	s := &protocolSet{dns: true}
	checkFlows(t, s.matchL7, []flowCase{
		{"dns", &flowpb.Flow{L7: &flowpb.Layer7{Record: &flowpb.Layer7_Dns{Dns: &flowpb.DNS{}}}}, true},
		{"http", &flowpb.Flow{L7: &flowpb.Layer7{Record: &flowpb.Layer7_Http{Http: &flowpb.HTTP{}}}}, false},
		{"nil", nil, false},
	})
	wantErr(t, &flowpb.FlowFilter{Protocol: []string{"tcp", "quic"}},
		`whitelist[0].protocol: unknown protocol "quic" (want one of tcp, udp, sctp, icmp, icmpv4, icmpv6, vrrp, igmp, dns, http)`)
}

func TestPortFilter(t *testing.T) {
	f := mustBuild(t, &flowpb.FlowFilter{DestinationPort: []string{"53", "443"}})
	checkEvents(t, f, []eventCase{
		{"udp 53", ev{proto: record.ProtoUDP, dport: 53}, true},
		{"tcp 443", ev{proto: record.ProtoTCP, dport: 443}, true},
		{"sctp 443", ev{proto: record.ProtoSCTP, dport: 443}, true},
		{"other port", ev{proto: record.ProtoTCP, dport: 80}, false},
		{"source port ignored", ev{proto: record.ProtoTCP, sport: 53}, false},
		{"icmp has no ports", ev{proto: record.ProtoICMP, dport: 53}, false},
	})
	f = mustBuild(t, &flowpb.FlowFilter{SourcePort: []string{"0"}})
	checkEvents(t, f, []eventCase{
		{"port zero", ev{proto: record.ProtoUDP}, true},
		{"no L4", ev{}, false},
	})
	wantErr(t, &flowpb.FlowFilter{SourcePort: []string{"65536"}}, `whitelist[0].source_port: invalid port "65536": want a number from 0 to 65535`)
}

func TestTCPFlagsFilter(t *testing.T) {
	f := mustBuild(t, &flowpb.FlowFilter{TcpFlags: []*flowpb.TCPFlags{{SYN: true}, {FIN: true, ACK: true}}})
	syn, synAck := record.TCPSyn, record.TCPSyn|record.TCPAck
	checkEvents(t, f, []eventCase{
		{"syn", ev{proto: record.ProtoTCP, tcp: syn}, true},
		{"syn-ack has syn", ev{proto: record.ProtoTCP, tcp: synAck}, true},
		{"fin alone", ev{proto: record.ProtoTCP, tcp: record.TCPFin}, false},
		{"fin ack", ev{proto: record.ProtoTCP, tcp: record.TCPFin | record.TCPAck | record.TCPPsh}, true},
		{"udp", ev{proto: record.ProtoUDP, tcp: syn}, false},
		{"L7 record", ev{kind: record.KindL7, proto: record.ProtoTCP, tcp: syn}, true},
		{"drop", ev{kind: record.KindDrop, proto: record.ProtoTCP, tcp: syn}, true},
	})
	// An entry without flags matches any TCP packet.
	f = mustBuild(t, &flowpb.FlowFilter{TcpFlags: []*flowpb.TCPFlags{{}}})
	checkEvents(t, f, []eventCase{{"empty entry", ev{proto: record.ProtoTCP}, true}})
	all := &flowpb.TCPFlags{FIN: true, SYN: true, RST: true, PSH: true, ACK: true, URG: true, ECE: true, CWR: true, NS: true}
	if m := tcpFlagMask(all); m != 1<<9-1 {
		t.Fatalf("all flags mask %#x", m)
	}
}

func TestEventTypeFilter(t *testing.T) {
	et := func(typ, sub int32, match bool) *flowpb.FlowFilter {
		return &flowpb.FlowFilter{EventType: []*flowpb.EventTypeFilter{{Type: typ, SubType: sub, MatchSubType: match}}}
	}
	drop := ev{kind: record.KindDrop, verdict: flowpb.Verdict_DROPPED, dropReason: flowpb.DropReason_POLICY_DENIED}
	toEP := ev{kind: record.KindTrace, obs: flowpb.TraceObservationPoint_TO_ENDPOINT}
	fromEP := ev{kind: record.KindTrace, obs: flowpb.TraceObservationPoint_FROM_ENDPOINT}
	l7 := ev{kind: record.KindL7}
	checkEvents(t, mustBuild(t, et(1, 0, false)), []eventCase{{"drop", drop, true}, {"trace", toEP, false}, {"l7", l7, false}})
	checkEvents(t, mustBuild(t, et(1, int32(flowpb.DropReason_POLICY_DENIED), true)), []eventCase{{"drop reason", drop, true}})
	checkEvents(t, mustBuild(t, et(1, 130, true)), []eventCase{{"other reason", drop, false}})
	checkEvents(t, mustBuild(t, et(4, 0, true)), []eventCase{{"to-endpoint is sub-type 0", toEP, true}, {"from-endpoint", fromEP, false}})
	checkEvents(t, mustBuild(t, et(4, 5, true)), []eventCase{{"from-endpoint is 5", fromEP, true}})
	checkEvents(t, mustBuild(t, et(129, 0, false)), []eventCase{{"l7", l7, true}, {"trace", fromEP, false}})
	checkEvents(t, mustBuild(t, et(0, 0, false)), []eventCase{{"wildcard", drop, true}, {"wildcard trace", fromEP, true}})
	checkEvents(t, mustBuild(t, et(0, 5, true)), []eventCase{{"wildcard type with sub-type", fromEP, true}, {"drop 133", drop, false}})
	checkEvents(t, mustBuild(t, et(5, 0, false)), []eventCase{{"policy verdict never", drop, false}})
}
