//go:build linux

package bpf

import (
	"encoding/binary"
	"net/netip"
)

// Hand-built frames for BPF_PROG_TEST_RUN. Checksums are left zero: the
// capture program never validates them.

func ethFrame(etherType uint16, payload []byte) []byte {
	b := make([]byte, 14, 14+len(payload))
	copy(b[0:6], []byte{2, 0, 0, 0, 0, 2})
	copy(b[6:12], []byte{2, 0, 0, 0, 0, 1})
	binary.BigEndian.PutUint16(b[12:], etherType)
	return append(b, payload...)
}

func vlanFrame(etherType uint16, payload []byte) []byte {
	tag := []byte{0, 42, byte(etherType >> 8), byte(etherType)}
	return ethFrame(0x8100, append(tag, payload...))
}

func ipv4Packet(src, dst string, proto uint8, l4 []byte) []byte {
	h := make([]byte, 20, 20+len(l4))
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(l4)))
	h[8] = 64
	h[9] = proto
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	return append(h, l4...)
}

func ipv6Packet(src, dst string, next uint8, rest []byte) []byte {
	h := make([]byte, 40, 40+len(rest))
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(rest)))
	h[6] = next
	h[7] = 64
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return append(h, rest...)
}

// ipv6Ext is an 8-byte extension header (hop-by-hop, routing or
// destination options) followed by rest.
func ipv6Ext(next uint8, rest []byte) []byte {
	return append([]byte{next, 0, 0, 0, 0, 0, 0, 0}, rest...)
}

func tcpSegment(sport, dport uint16, flags uint16) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	b[12] = 5<<4 | byte(flags>>8&1)
	b[13] = byte(flags)
	return b
}

func udpDatagram(sport, dport uint16) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], 8)
	return b
}

func icmpMessage(typ, code uint8, id uint16) []byte {
	b := make([]byte, 8)
	b[0], b[1] = typ, code
	binary.BigEndian.PutUint16(b[4:], id)
	return b
}
