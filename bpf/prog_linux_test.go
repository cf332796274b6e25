//go:build linux

package bpf

import (
	"net/netip"
	"testing"

	"github.com/foveanet/fovea/model/packet"
	"github.com/foveanet/fovea/model/record"
)

// want is the part of an event a test asserts.
type want struct {
	src, dst     string
	proto        uint8
	hasL4        bool
	sport, dport uint16
	tcpFlags     uint16
	icmpType     uint8
	icmpCode     uint8
	replyKnown   bool
	reply        bool
}

func check(t *testing.T, ev KernelEvent, w want) {
	t.Helper()
	got := want{
		src: ev.Src.String(), dst: ev.Dst.String(), proto: ev.Proto, hasL4: ev.HasL4,
		sport: ev.SrcPort, dport: ev.DstPort, tcpFlags: ev.TCPFlags,
		icmpType: ev.ICMPType, icmpCode: ev.ICMPCode, replyKnown: ev.ReplyKnown, reply: ev.Reply,
	}
	if got != w {
		t.Errorf("event\n got %+v\nwant %+v", got, w)
	}
}

// checkGoParser checks that model/packet, the parser of sources that see
// frames in user space, reads frame as the capture program does: one
// definition of what a frame's record holds, stated twice.
func checkGoParser(t *testing.T, frame []byte, w *want) {
	t.Helper()
	h, err := packet.ParseEthernet(frame)
	if w == nil {
		if err == nil {
			t.Errorf("packet.ParseEthernet = %+v, want an error as the program reports nothing", h)
		}
		return
	}
	if err != nil {
		t.Fatalf("packet.ParseEthernet: %v", err)
	}
	got := want{src: h.Src.String(), dst: h.Dst.String(), proto: h.Proto, hasL4: h.HasL4,
		sport: h.SrcPort, dport: h.DstPort, tcpFlags: h.TCPFlags, icmpType: h.ICMPType, icmpCode: h.ICMPCode,
		replyKnown: w.replyKnown, reply: w.reply}
	if got != *w {
		t.Errorf("packet.ParseEthernet\n got %+v\nwant %+v", got, *w)
	}
}

func TestProgramParsesPackets(t *testing.T) {
	s := newTestSource(t, Config{})
	const all = record.TCPFin | record.TCPSyn | record.TCPRst | record.TCPPsh | record.TCPAck |
		record.TCPUrg | record.TCPEce | record.TCPCwr | record.TCPNs
	hopOpts, routing, dstOpts, fragment := uint8(0), uint8(43), uint8(60), uint8(44)

	for _, tc := range []struct {
		name  string
		frame []byte
		want  *want // nil: no event
	}{
		{"tcp4 all flags", ethFrame(0x0800, ipv4Packet("10.0.0.1", "10.0.0.2", 6, tcpSegment(1000, 80, all))),
			&want{src: "10.0.0.1", dst: "10.0.0.2", proto: 6, hasL4: true, sport: 1000, dport: 80, tcpFlags: all, replyKnown: true, reply: true}}, // SYN with ACK: sent by the responder,
		{"udp4", ethFrame(0x0800, ipv4Packet("10.0.1.1", "10.0.1.2", 17, udpDatagram(5353, 53))),
			&want{src: "10.0.1.1", dst: "10.0.1.2", proto: 17, hasL4: true, sport: 5353, dport: 53, replyKnown: true}},
		{"sctp4", ethFrame(0x0800, ipv4Packet("10.0.2.1", "10.0.2.2", 132, udpDatagram(3868, 3868)[:4])),
			&want{src: "10.0.2.1", dst: "10.0.2.2", proto: 132, hasL4: true, sport: 3868, dport: 3868, replyKnown: true}},
		{"icmp4 unreachable", ethFrame(0x0800, ipv4Packet("10.0.3.1", "10.0.3.2", 1, icmpMessage(3, 3, 0))),
			&want{src: "10.0.3.1", dst: "10.0.3.2", proto: 1, hasL4: true, icmpType: 3, icmpCode: 3}},
		{"vlan udp4", vlanFrame(0x0800, ipv4Packet("10.0.4.1", "10.0.4.2", 17, udpDatagram(1, 2))),
			&want{src: "10.0.4.1", dst: "10.0.4.2", proto: 17, hasL4: true, sport: 1, dport: 2, replyKnown: true}},
		{"ipv4 options", ethFrame(0x0800, func() []byte {
			p := ipv4Packet("10.0.5.1", "10.0.5.2", 17, append(make([]byte, 4), udpDatagram(7, 8)...))
			p[0] = 0x46 // IHL 6: four bytes of options before UDP
			return p
		}()), &want{src: "10.0.5.1", dst: "10.0.5.2", proto: 17, hasL4: true, sport: 7, dport: 8, replyKnown: true}},
		{"ipv4 later fragment", ethFrame(0x0800, func() []byte {
			p := ipv4Packet("10.0.6.1", "10.0.6.2", 6, tcpSegment(1, 2, record.TCPSyn))
			p[6], p[7] = 0, 10 // fragment offset 80 bytes: not an L4 header
			return p
		}()), &want{src: "10.0.6.1", dst: "10.0.6.2", proto: 6}},
		{"tcp4 truncated", ethFrame(0x0800, ipv4Packet("10.0.7.1", "10.0.7.2", 6, tcpSegment(1, 2, 0)[:8])),
			&want{src: "10.0.7.1", dst: "10.0.7.2", proto: 6}},
		{"tcp4 bad data offset", ethFrame(0x0800, ipv4Packet("10.0.7.3", "10.0.7.4", 6, func() []byte {
			b := tcpSegment(1, 2, 0)
			b[12] = 2 << 4
			return b
		}())), &want{src: "10.0.7.3", dst: "10.0.7.4", proto: 6}},
		{"ipv4 IHL too small", ethFrame(0x0800, func() []byte {
			p := ipv4Packet("10.0.8.1", "10.0.8.2", 17, udpDatagram(1, 2))
			p[0] = 0x43
			return p
		}()), nil},
		{"ipv4 wrong version", ethFrame(0x0800, func() []byte {
			p := ipv4Packet("10.0.8.1", "10.0.8.2", 17, udpDatagram(1, 2))
			p[0] = 0x65
			return p
		}()), nil},
		// BPF_PROG_TEST_RUN refuses IP frames shorter than an IP header, so
		// truncated headers travel behind a VLAN tag, which it does not parse.
		{"ipv4 truncated header", vlanFrame(0x0800, ipv4Packet("10.0.9.1", "10.0.9.2", 17, nil)[:12]), nil},
		{"vlan tag missing", ethFrame(0x8100, nil), nil},
		{"arp", ethFrame(0x0806, make([]byte, 28)), nil},
		{"vlan arp", vlanFrame(0x0806, make([]byte, 28)), nil},
		{"udp6", ethFrame(0x86dd, ipv6Packet("fd00::1", "fd00::2", 17, udpDatagram(4000, 53))),
			&want{src: "fd00::1", dst: "fd00::2", proto: 17, hasL4: true, sport: 4000, dport: 53, replyKnown: true}},
		{"udp6 behind extension headers", ethFrame(0x86dd, ipv6Packet("fd00::3", "fd00::4", hopOpts,
			ipv6Ext(routing, ipv6Ext(dstOpts, ipv6Ext(17, udpDatagram(4001, 53)))))),
			&want{src: "fd00::3", dst: "fd00::4", proto: 17, hasL4: true, sport: 4001, dport: 53, replyKnown: true}},
		{"tcp6 first fragment", ethFrame(0x86dd, ipv6Packet("fd00::5", "fd00::6", fragment,
			append([]byte{6, 0, 0, 1, 0, 0, 0, 1}, tcpSegment(4002, 443, record.TCPSyn)...))),
			&want{src: "fd00::5", dst: "fd00::6", proto: 6, hasL4: true, sport: 4002, dport: 443, tcpFlags: record.TCPSyn, replyKnown: true}},
		{"ipv6 later fragment", ethFrame(0x86dd, ipv6Packet("fd00::7", "fd00::8", fragment,
			append([]byte{17, 0, 0, 0x50, 0, 0, 0, 1}, udpDatagram(1, 2)...))),
			&want{src: "fd00::7", dst: "fd00::8", proto: 17}},
		{"ipv6 too many extension headers", ethFrame(0x86dd, ipv6Packet("fd00::9", "fd00::a", hopOpts,
			ipv6Ext(dstOpts, ipv6Ext(dstOpts, ipv6Ext(dstOpts, ipv6Ext(dstOpts, ipv6Ext(dstOpts, ipv6Ext(dstOpts, udpDatagram(1, 2))))))))),
			&want{src: "fd00::9", dst: "fd00::a", proto: dstOpts}},
		{"ipv6 truncated extension header", ethFrame(0x86dd, ipv6Packet("fd00::b", "fd00::c", hopOpts, []byte{17})),
			&want{src: "fd00::b", dst: "fd00::c", proto: hopOpts}},
		{"ipv6 extension header past the end", ethFrame(0x86dd, ipv6Packet("fd00::d", "fd00::e", hopOpts, []byte{17, 200, 0, 0, 0, 0, 0, 0})),
			&want{src: "fd00::d", dst: "fd00::e", proto: 17}},
		{"ipv6 truncated header", vlanFrame(0x86dd, ipv6Packet("fd00::1", "fd00::2", 17, nil)[:30]), nil},
		{"icmp6 neighbour solicitation", ethFrame(0x86dd, ipv6Packet("fe80::1", "ff02::1:ff00:2", 58, icmpMessage(135, 0, 0))),
			&want{src: "fe80::1", dst: "ff02::1:ff00:2", proto: 58, hasL4: true, icmpType: 135}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoParser(t, tc.frame, tc.want)
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
			check(t, evs[0], *tc.want)
			if evs[0].Len != uint32(len(tc.frame)) || evs[0].Dir != Ingress || evs[0].BootNs == 0 {
				t.Errorf("len %d dir %v boot %d, want len %d ingress and a time", evs[0].Len, evs[0].Dir, evs[0].BootNs, len(tc.frame))
			}
		})
	}
}

func TestProgramTracksConnections(t *testing.T) {
	s := newTestSource(t, Config{})
	tcp := func(src, dst string, sport, dport, flags uint16) []byte {
		a := netip.MustParseAddr(src)
		if a.Is4() {
			return ethFrame(0x0800, ipv4Packet(src, dst, 6, tcpSegment(sport, dport, flags)))
		}
		return ethFrame(0x86dd, ipv6Packet(src, dst, 6, tcpSegment(sport, dport, flags)))
	}
	steps := []struct {
		name       string
		frame      []byte
		egress     bool
		reply      bool
		replyKnown bool
	}{
		// A handshake where the server's address sorts first.
		{"syn", tcp("10.1.0.9", "10.1.0.1", 40000, 80, record.TCPSyn), false, false, true},
		{"syn-ack", tcp("10.1.0.1", "10.1.0.9", 80, 40000, record.TCPSyn|record.TCPAck), true, true, true},
		{"ack", tcp("10.1.0.9", "10.1.0.1", 40000, 80, record.TCPAck), false, false, true},
		{"server data", tcp("10.1.0.1", "10.1.0.9", 80, 40000, record.TCPAck|record.TCPPsh), true, true, true},
		// Joining mid-connection at a SYN-ACK: its receiver initiated.
		{"late syn-ack", tcp("fd00::1", "fd00::2", 443, 50000, record.TCPSyn|record.TCPAck), false, true, true},
		{"late ack", tcp("fd00::2", "fd00::1", 50000, 443, record.TCPAck), true, false, true},
		// Joining at a data packet from a lower to an ephemeral port: its
		// sender is guessed to be the server.
		{"guess by ports", tcp("10.2.0.1", "10.2.0.2", 8080, 33000, record.TCPAck), false, true, true},
		{"guess by ports other way", tcp("10.2.0.2", "10.2.0.1", 33000, 8080, record.TCPAck), false, false, true},
		// Otherwise the sender of the first packet seen is guessed to be
		// the initiator, until a SYN-ACK says otherwise.
		{"guess", tcp("10.4.0.1", "10.4.0.2", 5000, 6000, record.TCPAck), false, false, true},
		{"correction", tcp("10.4.0.1", "10.4.0.2", 5000, 6000, record.TCPSyn|record.TCPAck), false, true, true},
		{"after correction", tcp("10.4.0.2", "10.4.0.1", 6000, 5000, record.TCPAck), false, false, true},
		{"learned initiator kept", tcp("10.4.0.2", "10.4.0.1", 6000, 5000, record.TCPSyn|record.TCPAck), false, false, true},
		// A new SYN on a known tuple restarts the connection.
		{"port reuse syn", tcp("10.1.0.1", "10.1.0.9", 80, 40000, record.TCPSyn), false, false, true},
		{"port reuse reply", tcp("10.1.0.9", "10.1.0.1", 40000, 80, record.TCPSyn|record.TCPAck), false, true, true},
		// ICMP echo pairs by identifier.
		{"echo request", ethFrame(0x0800, ipv4Packet("10.3.0.2", "10.3.0.1", 1, icmpMessage(8, 0, 7))), false, false, true},
		{"echo reply", ethFrame(0x0800, ipv4Packet("10.3.0.1", "10.3.0.2", 1, icmpMessage(0, 0, 7))), true, true, true},
		{"echo6 reply first", ethFrame(0x86dd, ipv6Packet("fd00::5", "fd00::6", 58, icmpMessage(129, 0, 9))), false, true, true},
	}
	for _, st := range steps {
		prog := s.objs.CaptureIngress
		if st.egress {
			prog = s.objs.CaptureEgress
		}
		runProg(t, prog, st.frame)
		evs := drainEvents(t, s)
		if len(evs) != 1 {
			t.Fatalf("%s: got %d events, want 1", st.name, len(evs))
		}
		ev := evs[0]
		if ev.Reply != st.reply || ev.ReplyKnown != st.replyKnown {
			t.Errorf("%s: reply=%v known=%v, want reply=%v known=%v", st.name, ev.Reply, ev.ReplyKnown, st.reply, st.replyKnown)
		}
		if wantDir := map[bool]Direction{false: Ingress, true: Egress}[st.egress]; ev.Dir != wantDir {
			t.Errorf("%s: direction %v, want %v", st.name, ev.Dir, wantDir)
		}
		if (ev.Proto == 1 || ev.Proto == 58) && (ev.SrcPort != 0 || ev.DstPort != 0) {
			t.Errorf("%s: ICMP event carries ports %d/%d", st.name, ev.SrcPort, ev.DstPort)
		}
	}
}

func TestProgramCountsReserveFailures(t *testing.T) {
	s := newTestSource(t, Config{RingBytes: 4096, Aggregation: AggregationNone})
	frame := ethFrame(0x0800, ipv4Packet("10.9.0.1", "10.9.0.2", 17, udpDatagram(1, 2)))
	// A page holds 4096/(64+8) = 56 events; the rest must be counted.
	const sent = 100
	for range sent {
		runProg(t, s.objs.CaptureIngress, frame)
	}
	failed, err := s.reserveFailures()
	if err != nil {
		t.Fatal(err)
	}
	got := uint64(len(drainEvents(t, s)))
	if got+failed != sent || failed == 0 {
		t.Fatalf("%d events read + %d reserve failures, want %d with some failures", got, failed, sent)
	}
}
