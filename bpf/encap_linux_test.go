//go:build linux

package bpf

import (
	"testing"

	"github.com/foveanet/fovea/model/record"
)

// TestProgramReportsTheOuterTupleOfTunnels sends encapsulated packets: the
// event must describe the packet on the wire (the tunnel's addresses,
// protocol and ports), never mix in the inner packet's.
func TestProgramReportsTheOuterTupleOfTunnels(t *testing.T) {
	s := newTestSource(t, Config{})
	inner4 := ipv4Packet("10.244.1.10", "10.244.2.20", 6, tcpSegment(40000, 8080, record.TCPSyn))
	inner6 := ipv6Packet("fd00:10::1", "fd00:10::2", 6, tcpSegment(40001, 8080, record.TCPSyn))
	innerFrame := ethFrame(0x0800, inner4)
	tunnelHeader := []byte{0x08, 0, 0, 0, 0, 0, 0x2a, 0} // VXLAN/Geneve-sized: flags and VNI
	udpTunnel := func(sport, dport uint16) []byte {
		return append(udpDatagram(sport, dport), append(tunnelHeader, innerFrame...)...)
	}
	for _, tc := range []struct {
		name         string
		frame        []byte
		proto        uint8
		sport, dport uint16
	}{
		{"ip-in-ip", ethFrame(0x0800, ipv4Packet("172.30.0.1", "172.30.0.2", 4, inner4)), 4, 0, 0},
		{"ipv6-in-ipv4", ethFrame(0x0800, ipv4Packet("172.30.0.1", "172.30.0.2", 41, inner6)), 41, 0, 0},
		{"vxlan", ethFrame(0x0800, ipv4Packet("172.30.0.1", "172.30.0.2", 17, udpTunnel(51000, 4789))), 17, 51000, 4789},
		{"geneve", ethFrame(0x0800, ipv4Packet("172.30.0.1", "172.30.0.2", 17, udpTunnel(51001, 6081))), 17, 51001, 6081},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runProg(t, s.objs.CaptureIngress, tc.frame)
			evs := drainEvents(t, s)
			if len(evs) != 1 {
				t.Fatalf("got %d events, want 1", len(evs))
			}
			ev := evs[0]
			if ev.Src.String() != "172.30.0.1" || ev.Dst.String() != "172.30.0.2" || ev.Proto != tc.proto {
				t.Fatalf("event %s -> %s proto %d, want the tunnel's 172.30.0.1 -> 172.30.0.2 proto %d", ev.Src, ev.Dst, ev.Proto, tc.proto)
			}
			if ev.SrcPort != tc.sport || ev.DstPort != tc.dport || ev.TCPFlags != 0 {
				t.Fatalf("ports %d -> %d flags %#x, want the tunnel's %d -> %d and no inner TCP flags",
					ev.SrcPort, ev.DstPort, ev.TCPFlags, tc.sport, tc.dport)
			}
		})
	}
}
