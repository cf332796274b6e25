package packet_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/foveanet/fovea/model/packet"
	pt "github.com/foveanet/fovea/model/packet/packettest"
	"github.com/foveanet/fovea/model/record"
)

// The frame-by-frame agreement with the Linux capture program is asserted
// in bpf (TestProgramParsesPackets); these cover what only Go sources see.

func TestParseIP(t *testing.T) {
	for _, tc := range []struct {
		name string
		pkt  []byte
		want packet.Headers
	}{
		{"tcp4", pt.IPv4("10.0.0.1", "10.0.0.2", 6, pt.TCP(1000, 80, record.TCPSyn)), packet.Headers{
			Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: 6, HasL4: true,
			SrcPort: 1000, DstPort: 80, TCPFlags: record.TCPSyn}},
		{"icmp6 echo", pt.IPv6("fd00::1", "fd00::2", 58, pt.ICMP(128, 0, 7)), packet.Headers{
			Src: netip.MustParseAddr("fd00::1"), Dst: netip.MustParseAddr("fd00::2"), Proto: 58, HasL4: true, ICMPType: 128}},
		{"udp6 behind AH", pt.IPv6("fd00::1", "fd00::2", 51, append([]byte{17, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, pt.UDP(1, 2)...)), packet.Headers{
			Src: netip.MustParseAddr("fd00::1"), Dst: netip.MustParseAddr("fd00::2"), Proto: 17, HasL4: true, SrcPort: 1, DstPort: 2}},
		{"gre4 has no L4 fields", pt.IPv4("10.0.0.1", "10.0.0.2", 47, make([]byte, 8)), packet.Headers{
			Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: 47}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := packet.ParseIP(tc.pkt)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
	for _, bad := range [][]byte{nil, {0x20}, pt.IPv4("10.0.0.1", "10.0.0.2", 6, nil)[:19]} {
		if h, err := packet.ParseIP(bad); err == nil {
			t.Errorf("ParseIP(%x) = %+v, want an error", bad, h)
		}
	}
}

func TestParseEthernetNotIP(t *testing.T) {
	if _, err := packet.ParseEthernet(pt.Ethernet(0x0806, make([]byte, 28))); !errors.Is(err, packet.ErrNotIP) {
		t.Errorf("ARP: err %v, want ErrNotIP", err)
	}
}

func TestFill(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    packet.Headers
		want record.Record
	}{
		{"tcp", packet.Headers{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: 6, HasL4: true, SrcPort: 1, DstPort: 2, TCPFlags: record.TCPAck},
			record.Record{Src: [16]byte{10, 0, 0, 1}, Dst: [16]byte{10, 0, 0, 2}, Proto: 6, SrcPort: 1, DstPort: 2, TCPFlags: record.TCPAck}},
		{"truncated tcp claims no protocol", packet.Headers{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: 6},
			record.Record{Src: [16]byte{10, 0, 0, 1}, Dst: [16]byte{10, 0, 0, 2}}},
		{"gre keeps its protocol", packet.Headers{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: 47},
			record.Record{Src: [16]byte{10, 0, 0, 1}, Dst: [16]byte{10, 0, 0, 2}, Proto: 47}},
		{"icmp ignores ports", packet.Headers{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: 1, HasL4: true, SrcPort: 9, ICMPType: 8},
			record.Record{Src: [16]byte{10, 0, 0, 1}, Dst: [16]byte{10, 0, 0, 2}, Proto: 1, ICMPType: 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec record.Record
			tc.h.Fill(&rec)
			if rec != tc.want {
				t.Errorf("got %+v\nwant %+v", rec, tc.want)
			}
		})
	}
}

// FuzzParseEthernet checks that no frame makes the parser panic or read past
// its input, and that what it returns is consistent.
func FuzzParseEthernet(f *testing.F) {
	f.Add(pt.Ethernet(0x0800, pt.IPv4("10.0.0.1", "10.0.0.2", 6, pt.TCP(1, 2, record.TCPSyn))))
	f.Add(pt.VLAN(0x86dd, pt.IPv6("fd00::1", "fd00::2", 0, pt.IPv6Ext(44, append([]byte{17, 0, 0, 1, 0, 0, 0, 1}, pt.UDP(1, 2)...)))))
	f.Fuzz(func(t *testing.T, frame []byte) {
		h, err := packet.ParseEthernet(frame)
		if err != nil {
			return
		}
		if !h.Src.IsValid() || !h.Dst.IsValid() || h.Src.Is4() != h.Dst.Is4() {
			t.Fatalf("addresses %v %v", h.Src, h.Dst)
		}
		if h.HasL4 {
			switch h.Proto {
			case record.ProtoTCP, record.ProtoUDP, record.ProtoSCTP, record.ProtoICMP, record.ProtoICMPv6:
			default:
				t.Fatalf("L4 fields for protocol %d", h.Proto)
			}
		}
		var rec record.Record
		h.Fill(&rec)
		if rec.SrcAddr().Unmap() != h.Src.Unmap() || rec.DstAddr().Unmap() != h.Dst.Unmap() {
			t.Fatalf("record addresses %v %v, want %v %v", rec.SrcAddr(), rec.DstAddr(), h.Src, h.Dst)
		}
	})
}
