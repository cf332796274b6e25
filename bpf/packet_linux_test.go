//go:build linux

package bpf

import "github.com/foveanet/fovea/model/packet/packettest"

// Hand-built frames for BPF_PROG_TEST_RUN, short names for packettest's
// builders (shared with the Windows fixtures and the Go parser's tests).

func ethFrame(etherType uint16, payload []byte) []byte {
	return packettest.Ethernet(etherType, payload)
}

func vlanFrame(etherType uint16, payload []byte) []byte { return packettest.VLAN(etherType, payload) }

func ipv4Packet(src, dst string, proto uint8, l4 []byte) []byte {
	return packettest.IPv4(src, dst, proto, l4)
}

func ipv6Packet(src, dst string, next uint8, rest []byte) []byte {
	return packettest.IPv6(src, dst, next, rest)
}

func ipv6Ext(next uint8, rest []byte) []byte { return packettest.IPv6Ext(next, rest) }

func tcpSegment(sport, dport uint16, flags uint16) []byte { return packettest.TCP(sport, dport, flags) }

func udpDatagram(sport, dport uint16) []byte { return packettest.UDP(sport, dport) }

func icmpMessage(typ, code uint8, id uint16) []byte { return packettest.ICMP(typ, code, id) }
