package bpf

import (
	"fmt"
	"net/netip"
	"unsafe"
)

// TunnelProto is the encapsulation of a decapsulated packet (TUNNEL_* in
// c/capture.h).
type TunnelProto uint8

const (
	TunnelVXLAN TunnelProto = iota + 1
	TunnelGeneve
	// TunnelIPIP is IPv4 or IPv6 directly inside IPv4 or IPv6 (IPIP, SIT,
	// ip6tnl).
	TunnelIPIP
)

func (p TunnelProto) String() string {
	switch p {
	case TunnelVXLAN:
		return "vxlan"
	case TunnelGeneve:
		return "geneve"
	case TunnelIPIP:
		return "ipip"
	}
	return fmt.Sprintf("tunnel(%d)", uint8(p))
}

// Tunnel is the outer headers of a decapsulated packet.
type Tunnel struct {
	Proto    TunnelProto
	Src, Dst netip.Addr
	// SrcPort and DstPort are the outer UDP ports (VXLAN, Geneve).
	SrcPort, DstPort uint16
	// VNI is the VXLAN or Geneve network identifier.
	VNI uint32
}

// decodeTunnel reads the outer headers of a raw tunnel event, which is
// TunnelEventSize bytes, in place when it is aligned (as ring samples are).
func decodeTunnel(raw []byte) (Tunnel, error) {
	var te *captureTunnelEvent
	if p := unsafe.Pointer(unsafe.SliceData(raw)); uintptr(p)%unsafe.Alignof(captureTunnelEvent{}) == 0 {
		te = (*captureTunnelEvent)(p)
	} else {
		te = new(captureTunnelEvent)
		copy(unsafe.Slice((*byte)(unsafe.Pointer(te)), TunnelEventSize), raw)
	}
	tun := &te.Tun
	t := Tunnel{Proto: TunnelProto(tun.Proto), SrcPort: tun.Sport, DstPort: tun.Dport, VNI: tun.Vni}
	switch t.Proto {
	case TunnelVXLAN, TunnelGeneve:
	case TunnelIPIP:
		if t.SrcPort != 0 || t.DstPort != 0 || t.VNI != 0 {
			return Tunnel{}, fmt.Errorf("decode event: IP-in-IP tunnel with ports or a VNI")
		}
	default:
		return Tunnel{}, fmt.Errorf("decode event: tunnel protocol %d unknown", tun.Proto)
	}
	switch tun.Family {
	case 4:
		t.Src = netip.AddrFrom4([4]byte(tun.Saddr[:4]))
		t.Dst = netip.AddrFrom4([4]byte(tun.Daddr[:4]))
	case 6:
		t.Src = netip.AddrFrom16(tun.Saddr)
		t.Dst = netip.AddrFrom16(tun.Daddr)
	default:
		return Tunnel{}, fmt.Errorf("decode event: tunnel family %d is neither 4 nor 6", tun.Family)
	}
	return t, nil
}
