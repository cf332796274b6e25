// Package packettest builds frames and packets byte by byte for tests and
// fixture generators: what each header holds is written where it goes, so
// a reader can check it against the RFC. Checksums are left zero: no parser
// of this module validates them.
package packettest

import (
	"encoding/binary"
	"net/netip"
)

// Default MAC addresses of Ethernet: locally administered (02:…).
var (
	SrcMAC = [6]byte{2, 0, 0, 0, 0, 1}
	DstMAC = [6]byte{2, 0, 0, 0, 0, 2}
)

// Ethernet is an Ethernet II frame from SrcMAC to DstMAC.
func Ethernet(etherType uint16, payload []byte) []byte {
	return EthernetMAC(SrcMAC, DstMAC, etherType, payload)
}

// EthernetMAC is an Ethernet II frame: destination MAC, source MAC,
// EtherType (big-endian), payload.
func EthernetMAC(src, dst [6]byte, etherType uint16, payload []byte) []byte {
	b := make([]byte, 14, 14+len(payload))
	copy(b[0:6], dst[:])
	copy(b[6:12], src[:])
	binary.BigEndian.PutUint16(b[12:], etherType)
	return append(b, payload...)
}

// VLAN is an Ethernet frame with one 802.1Q tag (VLAN 42) before etherType.
func VLAN(etherType uint16, payload []byte) []byte {
	tag := []byte{0, 42, byte(etherType >> 8), byte(etherType)}
	return Ethernet(0x8100, append(tag, payload...))
}

// IPv4 is an IPv4 header without options (version 4, IHL 5, TTL 64, no
// fragmentation) carrying l4.
func IPv4(src, dst string, proto uint8, l4 []byte) []byte {
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

// IPv6 is an IPv6 header (hop limit 64) whose next header is next,
// followed by rest.
func IPv6(src, dst string, next uint8, rest []byte) []byte {
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

// IPv6Ext is an 8-byte extension header (hop-by-hop, routing or
// destination options) followed by rest.
func IPv6Ext(next uint8, rest []byte) []byte {
	return append([]byte{next, 0, 0, 0, 0, 0, 0, 0}, rest...)
}

// TCP is a 20-byte TCP header with flags (record.TCP* bits; NS goes in the
// data-offset byte).
func TCP(sport, dport uint16, flags uint16) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	b[12] = 5<<4 | byte(flags>>8&1)
	b[13] = byte(flags)
	return b
}

// UDP is an 8-byte UDP header without payload.
func UDP(sport, dport uint16) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], 8)
	return b
}

// ICMP is an 8-byte ICMP or ICMPv6 header whose identifier is id.
func ICMP(typ, code uint8, id uint16) []byte {
	b := make([]byte, 8)
	b[0], b[1] = typ, code
	binary.BigEndian.PutUint16(b[4:], id)
	return b
}
