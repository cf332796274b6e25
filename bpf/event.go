package bpf

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// EventSize is the size of one raw event (struct event in c/capture.h).
const EventSize = 64

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
	evKnownFlags = evL4 | evReplyKnown | evReply
)

// Event is one packet as the capture program reported it.
type Event struct {
	// BootNs is CLOCK_BOOTTIME in nanoseconds when the packet was seen.
	BootNs   uint64
	Src, Dst netip.Addr
	Ifindex  uint32
	// Len is the packet length including the link-layer header.
	Len uint32
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
}

// Decode parses one raw event. It rejects input of the wrong size or with
// fields no capture program writes, so a corrupt ring never yields a record.
func Decode(raw []byte) (Event, error) {
	if len(raw) != EventSize {
		return Event{}, fmt.Errorf("decode event: size %d, want %d", len(raw), EventSize)
	}
	ne := binary.NativeEndian
	ev := Event{
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
	switch family := raw[55]; family {
	case 4:
		ev.Src = netip.AddrFrom4([4]byte(raw[8:12]))
		ev.Dst = netip.AddrFrom4([4]byte(raw[24:28]))
	case 6:
		ev.Src = netip.AddrFrom16([16]byte(raw[8:24]))
		ev.Dst = netip.AddrFrom16([16]byte(raw[24:40]))
	default:
		return Event{}, fmt.Errorf("decode event: family %d is neither 4 nor 6", family)
	}
	if ev.Dir > Egress {
		return Event{}, fmt.Errorf("decode event: direction %d out of range", raw[56])
	}
	flags := raw[57]
	if flags&^evKnownFlags != 0 {
		return Event{}, fmt.Errorf("decode event: unknown flags %#x", flags)
	}
	if flags&evReply != 0 && flags&evReplyKnown == 0 {
		return Event{}, fmt.Errorf("decode event: flags %#x mark a reply of unknown state", flags)
	}
	if ev.TCPFlags > 0x1ff {
		return Event{}, fmt.Errorf("decode event: tcp flags %#x exceed nine bits", ev.TCPFlags)
	}
	ev.HasL4 = flags&evL4 != 0
	ev.ReplyKnown = flags&evReplyKnown != 0
	ev.Reply = flags&evReply != 0
	return ev, nil
}
