package flowview

import (
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

func testNode() *Node {
	return NewNode("node-1", "default", "v0.1.0", []string{"zone=a"}, intern.NewTables())
}

func tcpRecord() record.Record {
	r := record.Record{
		Time: 1_700_000_000_123_456_789, Kind: record.KindTrace, Proto: record.ProtoTCP,
		SrcPort: 40000, DstPort: 8080, TCPFlags: record.TCPSyn | record.TCPAck,
		Verdict: uint8(flowpb.Verdict_FORWARDED), ObsPoint: uint8(flowpb.TraceObservationPoint_TO_ENDPOINT),
	}
	r.SetAddrs(netip.MustParseAddr("10.244.1.10"), netip.MustParseAddr("10.244.2.20"))
	r.SetReply(true)
	return r
}

func TestFlowFromTraceRecord(t *testing.T) {
	node := testNode()
	world := node.Tables.Endpoints.Intern("world", func() *flowpb.Endpoint {
		return &flowpb.Endpoint{Identity: 2, Labels: []string{"reserved:world"}}
	})
	iface := node.Tables.Interfaces.Intern("7", func() *flowpb.NetworkInterface {
		return &flowpb.NetworkInterface{Index: 7, Name: "veth1"}
	})
	rec := tcpRecord()
	rec.SrcEndpoint, rec.Iface = world, iface

	var e Flow
	e.Reset(node, &rec, 42)
	f := e.Flow()
	if f != e.Flow() {
		t.Fatal("Flow() built the flow twice")
	}
	if got := f.GetTime().AsTime().UnixNano(); got != rec.Time {
		t.Errorf("time = %d, want %d", got, rec.Time)
	}
	if f.GetIP().GetSource() != "10.244.1.10" || f.GetIP().GetDestination() != "10.244.2.20" ||
		f.GetIP().GetIpVersion() != flowpb.IPVersion_IPv4 {
		t.Errorf("IP = %v", f.GetIP())
	}
	tcp := f.GetL4().GetTCP()
	if tcp.GetSourcePort() != 40000 || tcp.GetDestinationPort() != 8080 || !tcp.GetFlags().GetSYN() ||
		!tcp.GetFlags().GetACK() || tcp.GetFlags().GetFIN() {
		t.Errorf("L4 = %v", f.GetL4())
	}
	if f.GetSummary() != "TCP Flags: SYN, ACK" {
		t.Errorf("Summary = %q", f.GetSummary())
	}
	if f.GetEventType().GetType() != EventTypeTrace || f.GetEventType().GetSubType() != 0 {
		t.Errorf("EventType = %v", f.GetEventType())
	}
	if f.GetIsReply() == nil || !f.GetIsReply().GetValue() || !f.GetReply() {
		t.Errorf("IsReply = %v, Reply = %v", f.GetIsReply(), f.GetReply())
	}
	if f.GetTrafficDirection() != flowpb.TrafficDirection_EGRESS {
		t.Errorf("reply arriving at the endpoint: direction = %v, want EGRESS", f.GetTrafficDirection())
	}
	if f.GetSource().GetIdentity() != 2 || f.GetDestination() == nil {
		t.Errorf("endpoints = %v / %v: both must be non-nil", f.GetSource(), f.GetDestination())
	}
	if f.GetInterface().GetName() != "veth1" || f.GetNodeName() != "default/node-1" || f.GetType() != flowpb.FlowType_L3_L4 {
		t.Errorf("interface %v node %q type %v", f.GetInterface(), f.GetNodeName(), f.GetType())
	}
	if f.GetVerdict() != flowpb.Verdict_FORWARDED || f.GetEmitter().GetName() != "Fovea" {
		t.Errorf("verdict %v emitter %v", f.GetVerdict(), f.GetEmitter())
	}
}

func TestFlowWithoutConntrackHasNoReplyState(t *testing.T) {
	rec := tcpRecord()
	rec.Flags &^= record.FlagReplyKnown | record.FlagReply
	var e Flow
	e.Reset(testNode(), &rec, 1)
	if f := e.Flow(); f.GetIsReply() != nil || f.GetTrafficDirection() != flowpb.TrafficDirection_TRAFFIC_DIRECTION_UNKNOWN {
		t.Fatalf("IsReply = %v, direction = %v", f.GetIsReply(), f.GetTrafficDirection())
	}
}

func TestDropFlow(t *testing.T) {
	rec := tcpRecord()
	rec.Kind, rec.Verdict, rec.DropReason = record.KindDrop, uint8(flowpb.Verdict_DROPPED), uint16(flowpb.DropReason_POLICY_DENIED)
	var e Flow
	e.Reset(testNode(), &rec, 1)
	f := e.Flow()
	if f.GetEventType().GetType() != EventTypeDrop || f.GetEventType().GetSubType() != int32(flowpb.DropReason_POLICY_DENIED) ||
		f.GetDropReasonDesc() != flowpb.DropReason_POLICY_DENIED || f.GetTraceObservationPoint() != flowpb.TraceObservationPoint_UNKNOWN_POINT {
		t.Fatalf("drop flow = %v", f)
	}
}

func TestLost(t *testing.T) {
	rec := record.Record{Kind: record.KindLost, Time: 5, Count: 17, LostSource: uint8(flowpb.LostEventSource_PERF_EVENT_RING_BUFFER)}
	var e Flow
	e.Reset(testNode(), &rec, 1)
	l := e.Lost()
	if !e.IsLost() || l.GetNumEventsLost() != 17 || l.GetSource() != flowpb.LostEventSource_PERF_EVENT_RING_BUFFER {
		t.Fatalf("Lost() = %v", l)
	}
}

func TestSummary(t *testing.T) {
	for _, tc := range []struct {
		proto, typ, code uint8
		flags            uint16
		v6               bool
		want             string
	}{
		{proto: record.ProtoTCP, flags: record.TCPFin | record.TCPAck | record.TCPPsh, want: "TCP Flags: ACK, FIN, PSH"},
		{proto: record.ProtoTCP, flags: record.TCPRst, want: "TCP Flags: RST"},
		{proto: record.ProtoTCP, flags: record.TCPNs | record.TCPCwr | record.TCPEce | record.TCPUrg, want: "TCP Flags: URG, ECE, CWR, NS"},
		{proto: record.ProtoUDP, want: "UDP"},
		{proto: record.ProtoSCTP, want: "SCTP"},
		{proto: record.ProtoICMP, typ: 8, want: "ICMPv4 EchoRequest"},
		{proto: record.ProtoICMP, typ: 3, code: 3, want: "ICMPv4 DestinationUnreachable(Port)"},
		{proto: record.ProtoICMP, typ: 3, code: 99, want: "ICMPv4 DestinationUnreachable(Code: 99)"},
		{proto: record.ProtoICMP, typ: 8, code: 1, want: "ICMPv4 EchoRequest(Code: 1)"},
		{proto: record.ProtoICMP, typ: 200, code: 4, want: "ICMPv4 200(4)"},
		{proto: record.ProtoICMPv6, typ: 128, want: "ICMPv6 EchoRequest"},
		{proto: record.ProtoICMPv6, typ: 1, code: 4, want: "ICMPv6 DestinationUnreachable(PortUnreachable)"},
		{proto: 47, want: "IPv4"},
		{proto: 47, v6: true, want: "IPv6"},
	} {
		r := record.Record{Proto: tc.proto, TCPFlags: tc.flags, ICMPType: tc.typ, ICMPCode: tc.code}
		if tc.v6 {
			r.Flags |= record.FlagIPv6
		}
		if got := Summary(&r); got != tc.want {
			t.Errorf("Summary(proto %d type %d code %d flags %#x) = %q, want %q", tc.proto, tc.typ, tc.code, tc.flags, got, tc.want)
		}
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestUUID(t *testing.T) {
	boot := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	seen := map[string]bool{}
	for _, seq := range []uint64{0, 1, 255, 256, 1 << 40} {
		u := uuidOf(boot, seq)
		if !uuidRE.MatchString(u) {
			t.Errorf("uuidOf(%d) = %q, not a version-8 RFC 4122 UUID", seq, u)
		}
		if seen[u] {
			t.Errorf("uuidOf(%d) = %q repeats", seq, u)
		}
		seen[u] = true
	}
	if uuidOf(boot, 9) == uuidOf([8]byte{9}, 9) {
		t.Error("different boot IDs gave the same UUID")
	}
}

func BenchmarkFlow(b *testing.B) {
	node := testNode()
	rec := tcpRecord()
	var e Flow
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e.Reset(node, &rec, uint64(i))
		_ = e.Flow()
	}
}

// TestNodeLabels checks that a flow shows the labels its node had when
// its record was written, as Cilium's flows keep those of their decoding.
func TestNodeLabels(t *testing.T) {
	node := testNode()
	old := tcpRecord()
	node.SetLabels([]string{"zone=b", "kubernetes.io/arch=amd64"})
	recent := tcpRecord()
	recent.Time = time.Now().Add(time.Second).UnixNano()
	var e Flow
	e.Reset(node, &old, 1)
	if got := e.Flow().GetNodeLabels(); !slices.Equal(got, []string{"zone=a"}) {
		t.Errorf("node_labels of a record from before = %q", got)
	}
	e.Reset(node, &recent, 2)
	if got := e.Flow().GetNodeLabels(); !slices.Equal(got, []string{"kubernetes.io/arch=amd64", "zone=b"}) {
		t.Errorf("node_labels of a record from after = %q, want them sorted", got)
	}
	if !slices.Equal(node.LabelsAt(time.Now().UnixNano()), []string{"kubernetes.io/arch=amd64", "zone=b"}) {
		t.Errorf("LabelsAt(now) = %q", node.LabelsAt(time.Now().UnixNano()))
	}

	// The history is bounded: the oldest version kept stands for older
	// records.
	for i := range 2 * nodeLabelVersions {
		node.SetLabels([]string{"v=" + strconv.Itoa(i)})
	}
	if got := node.LabelsAt(old.Time); len(got) != 1 || got[0] != "v="+strconv.Itoa(nodeLabelVersions) {
		t.Errorf("labels of a record older than the history = %q", got)
	}
	node.SetLabels(nil)
	if node.LabelsAt(time.Now().UnixNano()) != nil {
		t.Errorf("labels = %q, want none", node.LabelsAt(time.Now().UnixNano()))
	}
}
