package bpf

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
	"unsafe"

	"github.com/foveanet/fovea/model/record"
)

// EventSize is the size of one raw event (struct event in c/capture.h). A
// snippet event is followed by its sequence and acknowledgment numbers and
// payload length, then up to SnippetMax payload bytes.
const EventSize = int(unsafe.Sizeof(captureEvent{}))

// snippetHeader is where a snippet event's payload starts.
const snippetHeader = int(unsafe.Offsetof(captureSnippet{}.Payload))

// SnippetMax is the most L4 payload bytes a snippet event carries
// (SNIPPET_MAX in c/capture.h, the payload of struct snippet).
const SnippetMax = len(captureSnippet{}.Payload)

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
	evWire       = 1 << 7
	evKindFlags  = evDrop | evRetransmit | evSnippet
	evKnownFlags = evL4 | evReplyKnown | evReply | evKindFlags | evPodNS | evWire
)

// synAck are the flags of a SYN-ACK, whose packet event carries its
// handshake latency where others carry their packet count.
const synAck = record.TCPSyn | record.TCPAck

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
	// payload bytes (Payload), sent because a port is in Config.DNSPorts
	// or the payload starts an HTTP message (Config.HTTPRate).
	KindSnippet
	// KindDrop is a packet the kernel dropped (skb:kfree_skb); DropReason
	// holds the kernel's enum skb_drop_reason value.
	KindDrop
	// KindRetransmit is a TCP segment the local stack retransmitted
	// (tcp:tcp_retransmit_skb); addresses and ports are the socket's.
	KindRetransmit
)

// KernelEvent is one packet as a datapath program reported it: a raw event
// (captureEvent) decoded and checked.
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
	// connection's previous report. At least 1; always 1 for a TCP SYN-ACK,
	// whose event carries Handshake instead.
	Packets uint32
	// Handshake is, for a KindPacket or KindSnippet event of a TCP
	// SYN-ACK, the time since the capture program saw its connection's
	// latest SYN (microsecond resolution); zero when it saw none.
	Handshake time.Duration
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
	// PayloadLen is the whole L4 payload's length, of which Payload holds
	// the first SnippetMax bytes at most; Seq and Ack, for TCP, are the
	// sequence number of its first byte and the acknowledgment number
	// (KindSnippet).
	PayloadLen, Seq, Ack uint32
	// HasWire says the packet was otherwise on the wire (KindPacket
	// only): decapsulated, its other fields are the inner packet's;
	// source-translated, they are the packet's before translation. Wire
	// holds how it was.
	HasWire bool
	Wire    Wire
}

// Decode parses one raw event. It rejects input of the wrong size or with
// fields no program writes, so a corrupt ring never yields a record.
func Decode(raw []byte) (KernelEvent, error) {
	if len(raw) < EventSize || len(raw) > max(snippetHeader+SnippetMax, WireEventSize) {
		return KernelEvent{}, fmt.Errorf("decode event: size %d, want %d to %d", len(raw), EventSize, snippetHeader+SnippetMax)
	}
	ce := rawView(raw)
	ev := KernelEvent{
		BootNs:   ce.Ktime,
		Ifindex:  ce.Ifindex,
		Len:      ce.Len,
		SrcPort:  ce.Sport,
		DstPort:  ce.Dport,
		TCPFlags: ce.TcpFlags,
		Proto:    ce.Proto,
		Dir:      Direction(ce.Dir),
		ICMPType: ce.IcmpType,
		ICMPCode: ce.IcmpCode,
	}
	// bpf2go names the union after its first member, reason: it is the
	// drop reason of a drop, the handshake latency of a SYN-ACK and the
	// packet count of another packet event.
	last := ce.Reason
	switch ce.Family {
	case 4:
		ev.Src = netip.AddrFrom4([4]byte(ce.Saddr[:4]))
		ev.Dst = netip.AddrFrom4([4]byte(ce.Daddr[:4]))
	case 6:
		ev.Src = netip.AddrFrom16(ce.Saddr)
		ev.Dst = netip.AddrFrom16(ce.Daddr)
	default:
		return KernelEvent{}, fmt.Errorf("decode event: family %d is neither 4 nor 6", ce.Family)
	}
	if ev.Dir > Egress {
		return KernelEvent{}, fmt.Errorf("decode event: direction %d out of range", ce.Dir)
	}
	flags := ce.Flags
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
		if len(raw) <= snippetHeader {
			return KernelEvent{}, fmt.Errorf("decode event: size %d with flags %#x: a snippet event carries payload", len(raw), flags)
		}
		ev.Kind = KindSnippet
		ev.Seq = binary.NativeEndian.Uint32(raw[EventSize:])
		ev.Ack = binary.NativeEndian.Uint32(raw[EventSize+4:])
		ev.PayloadLen = binary.NativeEndian.Uint32(raw[EventSize+8:])
		ev.Payload = raw[snippetHeader:]
		if ev.PayloadLen < uint32(len(ev.Payload)) {
			return KernelEvent{}, fmt.Errorf("decode event: payload length %d below the %d bytes captured", ev.PayloadLen, len(ev.Payload))
		}
	case evDrop:
		ev.Kind = KindDrop
	case evRetransmit:
		ev.Kind = KindRetransmit
	default:
		return KernelEvent{}, fmt.Errorf("decode event: flags %#x name more than one kind", flags)
	}
	if flags&evWire != 0 {
		if ev.Kind != KindPacket || len(raw) != WireEventSize {
			return KernelEvent{}, fmt.Errorf("decode event: size %d with flags %#x: a wire event is a packet event of %d bytes", len(raw), flags, WireEventSize)
		}
		w, err := decodeWire(raw)
		if err != nil {
			return KernelEvent{}, err
		}
		ev.HasWire, ev.Wire = true, w
	} else if (ev.Kind == KindSnippet) != (len(raw) > EventSize) {
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
		if ce.Proto == record.ProtoTCP && flags&evL4 != 0 && ev.TCPFlags&synAck == synAck {
			ev.Packets, ev.Handshake = 1, time.Duration(last)*time.Microsecond
		} else {
			ev.Packets = max(last, 1)
		}
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

// rawView returns the struct event at the start of raw, which is at least
// EventSize bytes in host order, as the program wrote it. A ring sample is
// 8-byte aligned and read in place, without a copy; other input is copied,
// since some architectures fault on misaligned loads.
func rawView(raw []byte) *captureEvent {
	p := unsafe.Pointer(unsafe.SliceData(raw))
	if uintptr(p)%unsafe.Alignof(captureEvent{}) != 0 {
		ce := new(captureEvent)
		copy(unsafe.Slice((*byte)(unsafe.Pointer(ce)), EventSize), raw)
		return ce
	}
	return (*captureEvent)(p)
}
