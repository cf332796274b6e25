package packet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/foveanet/fovea/model/record"
)

// EtherTypes the parser understands.
const (
	EtherTypeIPv4  = 0x0800
	EtherTypeIPv6  = 0x86dd
	etherType8021Q = 0x8100
	etherType8021A = 0x88a8
	ethHeaderLen   = 14
	vlanTagLen     = 4
)

// IPv6 extension headers walked to find the L4 header (IANA numbers).
const (
	protoHopOpts  = 0
	protoRouting  = 43
	protoFragment = 44
	protoAH       = 51
	protoDstOpts  = 60
	// maxExtHeaders is how many extension headers are walked before the
	// packet is reported at L3 only (MAX_EXT_HDRS in bpf/c/capture.c).
	maxExtHeaders = 6
)

// ErrNotIP is returned for a frame that carries no IP packet (ARP, LLDP).
var ErrNotIP = errors.New("parse frame: not IP")

// Headers are the L3 and L4 fields of one packet.
type Headers struct {
	Src, Dst netip.Addr
	// Proto is the IANA protocol number after the IP header and any IPv6
	// extension headers walked.
	Proto uint8
	// HasL4 says SrcPort/DstPort, TCPFlags or ICMPType/ICMPCode were
	// parsed; without it the L4 header was absent (a later fragment, a
	// protocol without ports) or truncated.
	HasL4            bool
	SrcPort, DstPort uint16
	// TCPFlags holds record.TCP* bits.
	TCPFlags           uint16
	ICMPType, ICMPCode uint8
}

// ParseEthernet parses an Ethernet frame, optionally with one 802.1Q or
// 802.1ad tag. A frame whose IP header is missing, truncated or malformed
// is an error; one whose L4 header is, is not (see Headers.HasL4).
func ParseEthernet(frame []byte) (Headers, error) {
	if len(frame) < ethHeaderLen {
		return Headers{}, fmt.Errorf("parse frame: %d bytes, shorter than an Ethernet header", len(frame))
	}
	etherType, off := binary.BigEndian.Uint16(frame[12:]), ethHeaderLen
	if etherType == etherType8021Q || etherType == etherType8021A {
		if len(frame) < ethHeaderLen+vlanTagLen {
			return Headers{}, fmt.Errorf("parse frame: %d bytes, VLAN tag truncated", len(frame))
		}
		etherType, off = binary.BigEndian.Uint16(frame[16:]), off+vlanTagLen
	}
	switch etherType {
	case EtherTypeIPv4:
		return parseIPv4(frame[off:])
	case EtherTypeIPv6:
		return parseIPv6(frame[off:])
	}
	return Headers{}, ErrNotIP
}

// ParseIP parses a packet that starts with its IPv4 or IPv6 header.
func ParseIP(pkt []byte) (Headers, error) {
	if len(pkt) == 0 {
		return Headers{}, errors.New("parse packet: empty")
	}
	switch pkt[0] >> 4 {
	case 4:
		return parseIPv4(pkt)
	case 6:
		return parseIPv6(pkt)
	}
	return Headers{}, fmt.Errorf("parse packet: IP version %d", pkt[0]>>4)
}

func parseIPv4(p []byte) (Headers, error) {
	if len(p) < 20 {
		return Headers{}, fmt.Errorf("parse IPv4: %d bytes, shorter than its header", len(p))
	}
	if p[0]>>4 != 4 || p[0]&0xf < 5 {
		return Headers{}, fmt.Errorf("parse IPv4: version/IHL byte %#02x", p[0])
	}
	h := Headers{
		Src:   netip.AddrFrom4([4]byte(p[12:16])),
		Dst:   netip.AddrFrom4([4]byte(p[16:20])),
		Proto: p[9],
	}
	// Only the first fragment carries the L4 header.
	if binary.BigEndian.Uint16(p[6:])&0x1fff != 0 {
		return h, nil
	}
	h.parseL4(p, int(p[0]&0xf)*4)
	return h, nil
}

func parseIPv6(p []byte) (Headers, error) {
	if len(p) < 40 {
		return Headers{}, fmt.Errorf("parse IPv6: %d bytes, shorter than its header", len(p))
	}
	if p[0]>>4 != 6 {
		return Headers{}, fmt.Errorf("parse IPv6: version %d", p[0]>>4)
	}
	h := Headers{Src: netip.AddrFrom16([16]byte(p[8:24])), Dst: netip.AddrFrom16([16]byte(p[24:40]))}
	next, off := p[6], 40
	for range maxExtHeaders {
		switch next {
		case protoHopOpts, protoRouting, protoDstOpts:
			if off+2 > len(p) {
				h.Proto = next
				return h, nil
			}
			next, off = p[off], off+(int(p[off+1])+1)*8
		case protoAH:
			if off+2 > len(p) {
				h.Proto = next
				return h, nil
			}
			next, off = p[off], off+(int(p[off+1])+2)*4
		case protoFragment:
			if off+4 > len(p) {
				h.Proto = next
				return h, nil
			}
			fragOff := binary.BigEndian.Uint16(p[off+2:]) & 0xfff8
			next, off = p[off], off+8
			if fragOff != 0 {
				h.Proto = next
				return h, nil
			}
		default:
			h.Proto = next
			h.parseL4(p, off)
			return h, nil
		}
	}
	// Too many extension headers: L3 only.
	h.Proto = next
	return h, nil
}

// parseL4 parses the L4 header of h.Proto at off in p, leaving HasL4 unset
// when it is absent or truncated.
func (h *Headers) parseL4(p []byte, off int) {
	if off > len(p) {
		return
	}
	l4 := p[off:]
	switch h.Proto {
	case record.ProtoTCP:
		// Data offset below the fixed header: not a TCP header.
		if len(l4) < 14 || l4[12]>>4 < 5 {
			return
		}
		h.SrcPort, h.DstPort = binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:])
		h.TCPFlags = uint16(l4[13]) | uint16(l4[12]&1)<<8
	case record.ProtoUDP, record.ProtoSCTP:
		if len(l4) < 4 {
			return
		}
		h.SrcPort, h.DstPort = binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:])
	case record.ProtoICMP, record.ProtoICMPv6:
		if len(l4) < 8 {
			return
		}
		h.ICMPType, h.ICMPCode = l4[0], l4[1]
	default:
		return
	}
	h.HasL4 = true
}
