package bpf

import (
	"net/netip"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

func TestObsPoint(t *testing.T) {
	for _, tc := range []struct {
		role role
		dir  Direction
		want flowpb.TraceObservationPoint
	}{
		{roleEndpoint, Ingress, flowpb.TraceObservationPoint_FROM_ENDPOINT},
		{roleEndpoint, Egress, flowpb.TraceObservationPoint_TO_ENDPOINT},
		{roleNetwork, Ingress, flowpb.TraceObservationPoint_FROM_NETWORK},
		{roleNetwork, Egress, flowpb.TraceObservationPoint_TO_NETWORK},
		{roleOverlay, Ingress, flowpb.TraceObservationPoint_FROM_OVERLAY},
		{roleOverlay, Egress, flowpb.TraceObservationPoint_TO_OVERLAY},
	} {
		if got := obsPoint(tc.role, tc.dir); got != tc.want {
			t.Errorf("obsPoint(%v, %v) = %v, want %v", tc.role, tc.dir, got, tc.want)
		}
	}
}

func TestFillRecord(t *testing.T) {
	src, dst := netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")
	base := KernelEvent{BootNs: 1000, Src: src, Dst: dst, Ifindex: 3, Len: 90, Dir: Egress}

	tcp := base
	tcp.Proto, tcp.HasL4, tcp.SrcPort, tcp.DstPort, tcp.TCPFlags = record.ProtoTCP, true, 1, 2, record.TCPSyn
	tcp.ReplyKnown, tcp.Reply = true, true
	var rec record.Record
	tcp.fillRecord(&rec, 5000, roleNetwork, 9)
	if rec.Time != 6000 || rec.Kind != record.KindTrace || rec.Verdict != uint8(flowpb.Verdict_FORWARDED) ||
		rec.ObsPoint != uint8(flowpb.TraceObservationPoint_TO_NETWORK) || rec.Iface != 9 || rec.Bytes != 90 ||
		rec.Proto != record.ProtoTCP || rec.SrcPort != 1 || rec.DstPort != 2 || rec.TCPFlags != record.TCPSyn ||
		rec.SrcAddr() != src || rec.DstAddr() != dst {
		t.Fatalf("tcp record: %+v", rec)
	}
	if reply, known := rec.Reply(); !reply || !known {
		t.Fatalf("tcp reply = %v, %v", reply, known)
	}

	// A SYN-ACK's handshake latency travels in the record's Detail.
	synAck := tcp
	synAck.TCPFlags, synAck.Handshake = record.TCPSyn|record.TCPAck, 1234*time.Microsecond
	synAck.fillRecord(&rec, 0, roleNetwork, 9)
	if rec.Handshake() != 1234*time.Microsecond || rec.Count != 0 {
		t.Fatalf("syn-ack record: handshake %v, count %d", rec.Handshake(), rec.Count)
	}

	icmp := base
	icmp.Proto, icmp.HasL4, icmp.ICMPType, icmp.ICMPCode, icmp.SrcPort = record.ProtoICMPv6, true, 128, 0, 77
	icmp.fillRecord(&rec, 0, roleEndpoint, 1)
	if rec.ICMPType != 128 || rec.SrcPort != 0 || rec.Proto != record.ProtoICMPv6 {
		t.Fatalf("icmp record: %+v", rec)
	}
	if _, known := rec.Reply(); known {
		t.Fatal("icmp record claims a known reply state")
	}

	// A TCP packet without its header must not claim TCP (its ports would
	// be zero and wrong); other protocols keep their number.
	truncated := base
	truncated.Proto = record.ProtoTCP
	truncated.fillRecord(&rec, 0, roleEndpoint, 1)
	if rec.Proto != 0 || rec.SrcPort != 0 {
		t.Fatalf("truncated tcp record: %+v", rec)
	}
	gre := base
	gre.Proto = 47
	gre.fillRecord(&rec, 0, roleEndpoint, 1)
	if rec.Proto != 47 {
		t.Fatalf("gre record proto %d", rec.Proto)
	}
}
