package record

import (
	"net/netip"
	"time"

	"github.com/foveanet/fovea/model/intern"
)

// Kind says what a Record describes.
type Kind uint8

const (
	// KindTrace is a packet seen at an observation point (Hubble event type 4).
	KindTrace Kind = iota + 1
	// KindDrop is a packet the kernel dropped (Hubble event type 1).
	KindDrop
	// KindL7 is an application-layer record such as DNS (Hubble event type 129).
	KindL7
	// KindLost counts events a source lost before they reached the ring:
	// Count holds how many, LostSource which stage lost them.
	KindLost
	// KindPolicyVerdict is a network policy's verdict on the first packet
	// of a connection direction (Hubble event type 5): Policy references
	// the policies that decided it, FlagPolicyEgress gives the direction,
	// Verdict is FORWARDED (allowed), AUDIT (denied but delivered) or
	// DROPPED (denied and dropped by the kernel, whose reason's name Ext
	// references in Tables.Names, as for KindDrop), Detail is the Hubble
	// policy_match_type.
	KindPolicyVerdict
)

// Flags are per-record booleans packed into one field.
type Flags uint16

const (
	// FlagIPv6 marks Src and Dst as IPv6 addresses; otherwise they hold
	// IPv4 addresses in their first four bytes.
	FlagIPv6 Flags = 1 << iota
	// FlagReplyKnown is set when connection tracking classified the packet;
	// FlagReply is meaningful only then.
	FlagReplyKnown
	// FlagReply marks a packet travelling against its connection's initial
	// direction.
	FlagReply
	// FlagSNAT marks a trace record of a packet the node sent out with its
	// source translated: Src is the source before translation, and Ext
	// references the translated address in Tables.Names.
	FlagSNAT
	// FlagEncrypted marks a trace record seen on a device that encrypts
	// what it carries (WireGuard, IPsec): the packet left or reached the
	// node encrypted.
	FlagEncrypted
	// FlagSent marks a KindDrop record of a packet a local socket (the
	// node's or a pod's) had sent: its drop is egress. Without it a device
	// had received the packet (from the network, a pod or a tunnel), and
	// the drop is ingress.
	FlagSent
	// FlagPolicyEgress marks a record whose Policy decided the connection's
	// egress from its source pod; without it, the ingress into its
	// destination pod.
	FlagPolicyEgress
	// FlagPolicyDenied marks a KindDrop record whose Policy denied its
	// connection; without it, they allowed it (the drop was not theirs).
	FlagPolicyDenied
)

// TCP flag bits as they appear in TCPFlags (the TCP header's bit order).
const (
	TCPFin uint16 = 1 << iota
	TCPSyn
	TCPRst
	TCPPsh
	TCPAck
	TCPUrg
	TCPEce
	TCPCwr
	TCPNs
)

// IANA protocol numbers the agent understands.
const (
	ProtoICMP   uint8 = 1
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoICMPv6 uint8 = 58
	ProtoSCTP   uint8 = 132
)

// Record is one observed event. Its size is a multiple of eight bytes and it
// holds no pointers; keep it that way (the ring copies it as machine words).
type Record struct {
	// Time is when the event happened, in Unix nanoseconds.
	Time int64
	// Src and Dst are the packet's addresses (see FlagIPv6).
	Src, Dst [16]byte

	// SrcPort and DstPort are TCP/UDP/SCTP ports.
	SrcPort, DstPort uint16
	// TCPFlags holds the TCP* bits of a TCP packet.
	TCPFlags uint16
	Flags    Flags

	Kind Kind
	// Proto is the IANA protocol number of the L4 header.
	Proto uint8
	// Verdict is a flow.Verdict.
	Verdict uint8
	// ObsPoint is a flow.TraceObservationPoint.
	ObsPoint uint8
	// ICMPType and ICMPCode are set for ICMPv4 and ICMPv6.
	ICMPType, ICMPCode uint8
	// DropReason is a flow.DropReason for KindDrop.
	DropReason uint16

	// Iface references the interface (index and name) the packet was seen on.
	Iface intern.Ref
	// SrcEndpoint and DstEndpoint reference the endpoints the addresses
	// belonged to when the record was written.
	SrcEndpoint, DstEndpoint intern.Ref
	// SrcService and DstService reference services (issue #4).
	SrcService, DstService intern.Ref
	// SrcNames and DstNames reference DNS names known for the addresses.
	SrcNames, DstNames intern.Ref
	// Ext references what a kind has beyond the fixed fields: L7 details
	// (KindL7), the kernel drop reason's name (KindDrop), a decapsulated
	// packet's outer headers in Tables.Tunnels or, with FlagSNAT, its
	// translated source in Tables.Names (KindTrace; zero for neither).
	Ext intern.Ref

	// Count is the number of events lost (KindLost) or of packets this record
	// stands for (aggregated reports); zero means one.
	Count uint32
	// Bytes is the packet length, or the byte total of an aggregated report.
	Bytes uint32
	// LostSource is a flow.LostEventSource for KindLost.
	LostSource uint8
	// Retransmit marks a KindTrace record of a TCP segment the local stack
	// retransmitted.
	Retransmit bool
	// TunnelSrcPort is the outer UDP source port of a decapsulated packet:
	// it varies per inner flow, so it is not part of the interned tunnel.
	TunnelSrcPort uint16
	// Detail is what a kind has beyond the fixed fields as a number, as
	// Ext is as a reference, so that no kind's makes every record larger:
	// the kernel's enum skb_drop_reason value of a KindDrop record (see
	// KernelDropReason), the handshake latency in microseconds of a
	// KindTrace record of a TCP SYN-ACK (see Handshake), else zero.
	Detail uint32
	// Policy references, in Tables.Policies, the network policies that
	// decided the record's connection (KindPolicyVerdict, and KindDrop
	// when policies were evaluated); zero for none. It costs the record 8
	// bytes (104 → 112, with 4 bytes of alignment padding): Ext already
	// names a drop's kernel reason, and a drop must name both.
	Policy intern.Ref
}

// KernelDropReason returns the kernel's enum skb_drop_reason value of a
// KindDrop record, whose Ext references its name in Tables.Names; zero
// for other kinds.
func (r *Record) KernelDropReason() uint32 {
	if r.Kind != KindDrop {
		return 0
	}
	return r.Detail
}

// Handshake returns, for a KindTrace record of a TCP SYN-ACK, the time
// between the datapath's sight of its connection's latest SYN and its own
// on this node; zero when the SYN was not seen, and for other records.
func (r *Record) Handshake() time.Duration {
	if r.Kind != KindTrace {
		return 0
	}
	return time.Duration(r.Detail) * time.Microsecond
}

// IsIPv6 reports whether the record's addresses are IPv6.
func (r *Record) IsIPv6() bool { return r.Flags&FlagIPv6 != 0 }

// SrcAddr returns the source address.
func (r *Record) SrcAddr() netip.Addr { return r.addr(&r.Src) }

// DstAddr returns the destination address.
func (r *Record) DstAddr() netip.Addr { return r.addr(&r.Dst) }

func (r *Record) addr(a *[16]byte) netip.Addr {
	if r.IsIPv6() {
		return netip.AddrFrom16(*a)
	}
	return netip.AddrFrom4([4]byte{a[0], a[1], a[2], a[3]})
}

// SetAddrs stores src and dst and sets FlagIPv6 to match. A pair of IPv4 or
// IPv4-mapped IPv6 addresses is stored as IPv4; any other pair (a packet may
// carry one mapped address and one plain IPv6 address) as IPv6.
func (r *Record) SetAddrs(src, dst netip.Addr) {
	r.Src, r.Dst = [16]byte{}, [16]byte{}
	if s, d := src.Unmap(), dst.Unmap(); s.Is4() && d.Is4() {
		r.Flags &^= FlagIPv6
		s4, d4 := s.As4(), d.As4()
		copy(r.Src[:], s4[:])
		copy(r.Dst[:], d4[:])
		return
	}
	r.Flags |= FlagIPv6
	r.Src, r.Dst = src.As16(), dst.As16()
}

// Reply reports whether the packet is a reply, and whether that is known.
func (r *Record) Reply() (reply, known bool) {
	return r.Flags&FlagReply != 0, r.Flags&FlagReplyKnown != 0
}

// SetReply records the connection-tracking verdict for the packet.
func (r *Record) SetReply(reply bool) {
	r.Flags |= FlagReplyKnown
	if reply {
		r.Flags |= FlagReply
	} else {
		r.Flags &^= FlagReply
	}
}
