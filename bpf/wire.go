package bpf

import (
	"fmt"
	"net/netip"
	"unsafe"
)

// WireKind says how a packet reported with a Wire was on the wire (WIRE_*
// in c/capture.h).
type WireKind uint8

const (
	// WireVXLAN, WireGeneve and WireIPIP: the packet is the inner packet
	// of a tunnel; IPIP is IPv4 or IPv6 directly inside IPv4 or IPv6
	// (IPIP, SIT, ip6tnl).
	WireVXLAN WireKind = iota + 1
	WireGeneve
	WireIPIP
	// WireSNAT: the node translated the packet's source (masquerade,
	// SNAT); the packet is reported with the source its connection started
	// with.
	WireSNAT
)

func (k WireKind) String() string {
	switch k {
	case WireVXLAN:
		return "vxlan"
	case WireGeneve:
		return "geneve"
	case WireIPIP:
		return "ipip"
	case WireSNAT:
		return "snat"
	}
	return fmt.Sprintf("wire(%d)", uint8(k))
}

// Tunnelled reports whether the kind is a tunnel's.
func (k WireKind) Tunnelled() bool { return k >= WireVXLAN && k <= WireIPIP }

// Wire is how a packet was on the wire where its report shows it
// otherwise. For a tunnel: the outer addresses, UDP ports and VNI. For
// WireSNAT: Src and SrcPort as translated; Dst is invalid, the rest zero.
type Wire struct {
	Kind     WireKind
	Src, Dst netip.Addr
	SrcPort  uint16
	DstPort  uint16
	VNI      uint32
}

// WireEventSize is the size of a raw event with the wire's view (struct
// wire_event in c/capture.h).
const WireEventSize = int(unsafe.Sizeof(captureWireEvent{}))

// decodeWire reads the wire's view of a raw wire event, which is
// WireEventSize bytes, in place when it is aligned (as ring samples are).
func decodeWire(raw []byte) (Wire, error) {
	var we *captureWireEvent
	if p := unsafe.Pointer(unsafe.SliceData(raw)); uintptr(p)%unsafe.Alignof(captureWireEvent{}) == 0 {
		we = (*captureWireEvent)(p)
	} else {
		we = new(captureWireEvent)
		copy(unsafe.Slice((*byte)(unsafe.Pointer(we)), WireEventSize), raw)
	}
	cw := &we.Wire
	w := Wire{Kind: WireKind(cw.Kind), SrcPort: cw.Sport, DstPort: cw.Dport, VNI: cw.Vni}
	switch w.Kind {
	case WireVXLAN, WireGeneve:
	case WireIPIP, WireSNAT:
		if w.DstPort != 0 || w.VNI != 0 || (w.Kind == WireIPIP && w.SrcPort != 0) {
			return Wire{}, fmt.Errorf("decode event: %v wire with ports or a VNI it cannot have", w.Kind)
		}
	default:
		return Wire{}, fmt.Errorf("decode event: wire kind %d unknown", cw.Kind)
	}
	switch cw.Family {
	case 4:
		w.Src = netip.AddrFrom4([4]byte(cw.Saddr[:4]))
		if w.Kind != WireSNAT {
			w.Dst = netip.AddrFrom4([4]byte(cw.Daddr[:4]))
		}
	case 6:
		w.Src = netip.AddrFrom16(cw.Saddr)
		if w.Kind != WireSNAT {
			w.Dst = netip.AddrFrom16(cw.Daddr)
		}
	default:
		return Wire{}, fmt.Errorf("decode event: wire family %d is neither 4 nor 6", cw.Family)
	}
	return w, nil
}
