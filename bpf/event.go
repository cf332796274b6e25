package bpf

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// EventSize is the size of one raw event (struct event in c/capture.h). A
// snippet event is followed by up to SnippetMax payload bytes.
const EventSize = 64

// SnippetMax is the most L4 payload bytes a snippet event carries
// (SNIPPET_MAX in c/capture.h).
const SnippetMax = 512

// Direction is the side of the attachment a packet was seen on.
type Direction uint8

const (
	// Ingress is a packet the interface received.
	Ingress Direction = iota
	// Egress is a packet the interface sent.
	Egress
)

func (d Direction) String() string {
	switch d {
	case Ingress:
		return "ingress"
	case Egress:
		return "egress"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// Raw event flag bits (EV_* in c/capture.h).
const (
	evL4         = 1 << 0
	evReplyKnown = 1 << 1
	evReply      = 1 << 2
	evDrop       = 1 << 3
	evRetransmit = 1 << 4
	evSnippet    = 1 << 5
	evPodNS      = 1 << 6
	evKindFlags  = evDrop | evRetransmit | evSnippet
	evKnownFlags = evL4 | evReplyKnown | evReply | evKindFlags | evPodNS
)

// Aggregation modes of the capture program (AGG_* in c/aggregate.h).
const (
	aggNone       = 0
	aggConnection = 1
)

// EventKind says which program reported a KernelEvent and what it means.
type EventKind uint8

const (
	// KindPacket is a packet the tc/tcx capture program saw.
	KindPacket EventKind = iota
	// KindSnippet is a captured packet that also carries its first L4
	// payload bytes (Payload), sent because a port is in Config.DNSPorts.
	KindSnippet
	// KindDrop is a packet the kernel dropped (skb:kfree_skb); DropReason
	// holds the kernel's enum skb_drop_reason value.
	KindDrop
	// KindRetransmit is a TCP segment the local stack retransmitted
	// (tcp:tcp_retransmit_skb); addresses and ports are the socket's.
	KindRetransmit
)

// KernelEvent is one packet as a datapath program reported it, decoded and
// checked.
type KernelEvent struct {
	Kind EventKind
	// BootNs is CLOCK_BOOTTIME in nanoseconds when the packet was seen.
	BootNs   uint64
	Src, Dst netip.Addr
	Ifindex  uint32
	// Len is the packet length including the link-layer header; for an
	// aggregated report, the byte total of the Packets it stands for.
	Len uint32
	// Packets is how many packets a KindPacket or KindSnippet event stands
	// for: the reported one and those aggregation counted since the
	// connection's previous report. At least 1.
	Packets uint32
	// Proto is the IANA protocol number following the IP header(s).
	Proto uint8
	// HasL4 says SrcPort/DstPort, TCPFlags or ICMPType/ICMPCode were parsed;
	// without it the packet's L4 header was absent or truncated.
	HasL4            bool
	SrcPort, DstPort uint16
	TCPFlags         uint16
	ICMPType         uint8
	ICMPCode         uint8
	Dir              Direction
	// ReplyKnown says connection tracking classified the packet; Reply is
	// meaningful only then.
	ReplyKnown, Reply bool
	// PodNamespace says a drop or retransmission happened in the namespace
	// of a pod behind a captured veth rather than the source's own, so
	// Ifindex is not one of the source's interfaces.
	PodNamespace bool
	// DropReason is the kernel's enum skb_drop_reason value (KindDrop).
	DropReason uint32
	// Payload is the start of the L4 payload (KindSnippet). It aliases the
	// raw event and is valid only as long as that is.
	Payload []byte
}

// Decode parses one raw event. It rejects input of the wrong size or with
// fields no program writes, so a corrupt ring never yields a record.
func Decode(raw []byte) (KernelEvent, error) {
	if len(raw) < EventSize || len(raw) > EventSize+SnippetMax {
		return KernelEvent{}, fmt.Errorf("decode event: size %d, want %d to %d", len(raw), EventSize, EventSize+SnippetMax)
	}
	ne := binary.NativeEndian
	ev := KernelEvent{
		BootNs:   ne.Uint64(raw[0:8]),
		Ifindex:  ne.Uint32(raw[40:44]),
		Len:      ne.Uint32(raw[44:48]),
		SrcPort:  ne.Uint16(raw[48:50]),
		DstPort:  ne.Uint16(raw[50:52]),
		TCPFlags: ne.Uint16(raw[52:54]),
		Proto:    raw[54],
		Dir:      Direction(raw[56]),
		ICMPType: raw[58],
		ICMPCode: raw[59],
	}
	// The last word is the drop reason of a drop and the packet count of
	// a packet event.
	last := ne.Uint32(raw[60:64])
	switch family := raw[55]; family {
	case 4:
		ev.Src = netip.AddrFrom4([4]byte(raw[8:12]))
		ev.Dst = netip.AddrFrom4([4]byte(raw[24:28]))
	case 6:
		ev.Src = netip.AddrFrom16([16]byte(raw[8:24]))
		ev.Dst = netip.AddrFrom16([16]byte(raw[24:40]))
	default:
		return KernelEvent{}, fmt.Errorf("decode event: family %d is neither 4 nor 6", family)
	}
	if ev.Dir > Egress {
		return KernelEvent{}, fmt.Errorf("decode event: direction %d out of range", raw[56])
	}
	flags := raw[57]
	if flags&^evKnownFlags != 0 {
		return KernelEvent{}, fmt.Errorf("decode event: unknown flags %#x", flags)
	}
	if flags&evReply != 0 && flags&evReplyKnown == 0 {
		return KernelEvent{}, fmt.Errorf("decode event: flags %#x mark a reply of unknown state", flags)
	}
	if ev.TCPFlags > 0x1ff {
		return KernelEvent{}, fmt.Errorf("decode event: tcp flags %#x exceed nine bits", ev.TCPFlags)
	}
	switch flags & evKindFlags {
	case 0:
		ev.Kind = KindPacket
	case evSnippet:
		ev.Kind = KindSnippet
		ev.Payload = raw[EventSize:]
	case evDrop:
		ev.Kind = KindDrop
	case evRetransmit:
		ev.Kind = KindRetransmit
	default:
		return KernelEvent{}, fmt.Errorf("decode event: flags %#x name more than one kind", flags)
	}
	if (ev.Kind == KindSnippet) != (len(raw) > EventSize) {
		return KernelEvent{}, fmt.Errorf("decode event: size %d with flags %#x: only a snippet event, and always one, carries payload", len(raw), flags)
	}
	switch ev.Kind {
	case KindDrop:
		ev.DropReason = last
	case KindRetransmit:
		if last != 0 {
			return KernelEvent{}, fmt.Errorf("decode event: drop reason %d on an event that is no drop", last)
		}
	default:
		ev.Packets = max(last, 1)
	}
	if flags&evPodNS != 0 && ev.Kind != KindDrop && ev.Kind != KindRetransmit {
		return KernelEvent{}, fmt.Errorf("decode event: flags %#x place a packet event in a pod namespace", flags)
	}
	ev.PodNamespace = flags&evPodNS != 0
	ev.HasL4 = flags&evL4 != 0
	ev.ReplyKnown = flags&evReplyKnown != 0
	ev.Reply = flags&evReply != 0
	return ev, nil
}
