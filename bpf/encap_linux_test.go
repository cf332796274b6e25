//go:build linux

package bpf

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/foveanet/fovea/model/record"
)

func vxlanHeader(vni uint32, flags byte) []byte {
	return []byte{flags, 0, 0, 0, byte(vni >> 16), byte(vni >> 8), byte(vni), 0}
}

// geneveHeader has optWords 4-byte words of options (left zero) and the
// protocol type of what follows.
func geneveHeader(version byte, optWords int, ptype uint16, vni uint32) []byte {
	h := make([]byte, 8+4*optWords)
	h[0] = version<<6 | byte(optWords)
	binary.BigEndian.PutUint16(h[2:], ptype)
	h[4], h[5], h[6] = byte(vni>>16), byte(vni>>8), byte(vni)
	return h
}

func udpWith(sport, dport uint16, payload ...[]byte) []byte {
	b := udpDatagram(sport, dport)
	for _, p := range payload {
		b = append(b, p...)
	}
	return b
}

// TestProgramDecapsulatesTunnels runs the capture program over crafted
// frames of every encapsulation it knows, including those this kernel
// cannot build devices for (Geneve, IP-in-IP): a tunnelled packet is
// reported as its inner packet with the outer headers as its tunnel, and a
// packet that only looks like one is reported as it is on the wire.
func TestProgramDecapsulatesTunnels(t *testing.T) {
	s := newTestSource(t, Config{VXLANPorts: []uint16{4789, 8472, 6784}})
	inner4 := ipv4Packet("10.244.1.10", "10.244.2.20", record.ProtoTCP, tcpSegment(40000, 8080, record.TCPSyn))
	inner6 := ipv6Packet("fd00:10::1", "fd00:10::2", record.ProtoTCP, tcpSegment(40001, 8080, record.TCPSyn))
	arp := ethFrame(0x0806, make([]byte, 28))
	outer4 := func(proto uint8, payload []byte) []byte {
		return ethFrame(0x0800, ipv4Packet("172.30.0.1", "172.30.0.2", proto, payload))
	}
	outer6 := func(next uint8, payload []byte) []byte {
		return ethFrame(0x86DD, ipv6Packet("fd00:172:30::1", "fd00:172:30::2", next, payload))
	}
	syn := func(src, dst string, sport uint16) want {
		return want{src: src, dst: dst, proto: record.ProtoTCP, hasL4: true, sport: sport, dport: 8080, tcpFlags: record.TCPSyn, replyKnown: true}
	}
	in4, in6 := syn("10.244.1.10", "10.244.2.20", 40000), syn("fd00:10::1", "fd00:10::2", 40001)
	v4 := func(k WireKind, sport, dport uint16, vni uint32) *Wire {
		return &Wire{Kind: k, Src: netip.MustParseAddr("172.30.0.1"), Dst: netip.MustParseAddr("172.30.0.2"), SrcPort: sport, DstPort: dport, VNI: vni}
	}
	v6 := func(k WireKind, sport, dport uint16, vni uint32) *Wire {
		return &Wire{Kind: k, Src: netip.MustParseAddr("fd00:172:30::1"), Dst: netip.MustParseAddr("fd00:172:30::2"), SrcPort: sport, DstPort: dport, VNI: vni}
	}
	asIs := func(proto uint8, sport, dport uint16) want {
		return want{src: "172.30.0.1", dst: "172.30.0.2", proto: proto, hasL4: true, sport: sport, dport: dport, replyKnown: true}
	}
	for _, tc := range []struct {
		name   string
		frame  []byte
		want   *want // nil: no event
		tunnel *Wire
	}{
		{"vxlan", outer4(record.ProtoUDP, udpWith(51000, 4789, vxlanHeader(4096, 0x08), ethFrame(0x0800, inner4))), &in4, v4(WireVXLAN, 51000, 4789, 4096)},
		{"flannel vxlan, IPv6 inside", outer4(record.ProtoUDP, udpWith(51001, 8472, vxlanHeader(1, 0x08), ethFrame(0x86DD, inner6))), &in6, v4(WireVXLAN, 51001, 8472, 1)},
		{"vxlan over IPv6", outer6(record.ProtoUDP, udpWith(51002, 4789, vxlanHeader(6096, 0x08), ethFrame(0x0800, inner4))), &in4, v6(WireVXLAN, 51002, 4789, 6096)},
		{"vxlan on a configured port", outer4(record.ProtoUDP, udpWith(51003, 6784, vxlanHeader(7, 0x08), ethFrame(0x0800, inner4))), &in4, v4(WireVXLAN, 51003, 6784, 7)},
		{"geneve with options", outer4(record.ProtoUDP, udpWith(51004, 6081, geneveHeader(0, 2, 0x6558, 42), ethFrame(0x0800, inner4))), &in4, v4(WireGeneve, 51004, 6081, 42)},
		{"geneve carrying IPv6", outer4(record.ProtoUDP, udpWith(51005, 6081, geneveHeader(0, 0, 0x86DD, 43), inner6)), &in6, v4(WireGeneve, 51005, 6081, 43)},
		{"ip-in-ip", outer4(4, inner4), &in4, v4(WireIPIP, 0, 0, 0)},
		{"ipv6 in ipv4 (sit)", outer4(41, inner6), &in6, v4(WireIPIP, 0, 0, 0)},
		{"ipv4 in ipv6", outer6(4, inner4), &in4, v6(WireIPIP, 0, 0, 0)},
		{"vxlan carrying ARP", outer4(record.ProtoUDP, udpWith(51006, 4789, vxlanHeader(1, 0x08), arp)), nil, nil},
		{"vxlan without the VNI flag", outer4(record.ProtoUDP, udpWith(51007, 4789, vxlanHeader(1, 0), ethFrame(0x0800, inner4))), ptr(asIs(record.ProtoUDP, 51007, 4789)), nil},
		{"geneve version 1", outer4(record.ProtoUDP, udpWith(51008, 6081, geneveHeader(1, 0, 0x6558, 1), ethFrame(0x0800, inner4))), ptr(asIs(record.ProtoUDP, 51008, 6081)), nil},
		{"vxlan with a truncated inner packet", outer4(record.ProtoUDP, udpWith(51009, 4789, vxlanHeader(1, 0x08), ethFrame(0x0800, inner4[:12]))), ptr(asIs(record.ProtoUDP, 51009, 4789)), nil},
		{"udp to a port not configured", outer4(record.ProtoUDP, udpWith(51010, 4790, vxlanHeader(1, 0x08), ethFrame(0x0800, inner4))), ptr(asIs(record.ProtoUDP, 51010, 4790)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runProg(t, s.objs.CaptureIngress, tc.frame)
			evs := drainEvents(t, s)
			if tc.want == nil {
				if len(evs) != 0 {
					t.Fatalf("got %d events, want none: %+v", len(evs), evs)
				}
				return
			}
			if len(evs) != 1 {
				t.Fatalf("got %d events, want 1", len(evs))
			}
			ev := evs[0]
			check(t, ev, *tc.want)
			switch {
			case tc.tunnel == nil && ev.HasWire:
				t.Errorf("wire %+v, want none", ev.Wire)
			case tc.tunnel != nil && (!ev.HasWire || ev.Wire != *tc.tunnel):
				t.Errorf("wire %+v (has %v), want %+v", ev.Wire, ev.HasWire, *tc.tunnel)
			}
			if tc.tunnel != nil && ev.Len != uint32(len(tc.frame)) {
				t.Errorf("len %d, want the frame on the wire's %d", ev.Len, len(tc.frame))
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
