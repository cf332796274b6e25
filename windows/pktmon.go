package windows

import (
	"encoding/binary"
	"fmt"
)

// PktMon event ids (Microsoft-Windows-PktMon manifest, unchanged from
// Windows 10 1809 to 11 24H2) and the keywords and level that enable them.
const (
	// EventPacket is a packet seen at a component (with its payload).
	EventPacket = 160
	// EventDrop is a packet a component dropped (with its payload).
	EventDrop = 170

	// KeywordPayload enables events 160 and 170; without it none arrive,
	// silently.
	KeywordPayload = 0x10
	// LevelInformation is the level events 160 and 170 are logged at.
	LevelInformation = 4
)

// Layout of events 160 and 170, version 0: packed, little-endian.
const (
	pktGroupIDOff      = 0  // PktGroupId, UINT64: one id per packet, shared by its appearances
	pktNumberOff       = 8  // PktNumber, UINT16: which packet of the group
	appearanceCountOff = 10 // AppearanceCount, UINT16: the how-manieth component seeing it
	dirTagOff          = 12 // DirTag, UINT16
	packetTypeOff      = 14 // PacketType, UINT16
	componentIDOff     = 16 // ComponentId, UINT16
	edgeIDOff          = 18 // EdgeId, UINT16
	filterIDOff        = 20 // FilterId, UINT16
	dropReasonOff      = 22 // DropReason, UINT32 (0, Drop_Unknown, on packet events)
	dropLocationOff    = 26 // DropLocation, UINT32: 0xE00Sxxxx, S the subsystem
	originalSizeOff    = 30 // OriginalPayloadSize, UINT16: the packet's length
	loggedSizeOff      = 32 // LoggedPayloadSize, UINT16: bytes that follow
	payloadOff         = 34 // Payload
	pktmonFixedSize    = payloadOff
)

// PacketType says what a payload starts with.
type PacketType uint16

// PacketTypes PktMon logs.
const (
	PacketUnknown  PacketType = 0
	PacketEthernet PacketType = 1
	PacketWiFi     PacketType = 2
	PacketIP       PacketType = 3
)

// DirTag is the side of a component a packet was seen on.
type DirTag uint16

// DirTags PktMon logs.
const (
	DirUnspecified DirTag = 0
	DirIn          DirTag = 1
	DirOut         DirTag = 2
	DirRx          DirTag = 3
	DirTx          DirTag = 4
	DirIngress     DirTag = 5
	DirEgress      DirTag = 6
)

// Inbound reports whether the packet was travelling into the component's
// host side (received from the wire or a port), and whether that is known.
func (d DirTag) Inbound() (in, known bool) {
	switch d {
	case DirIn, DirRx, DirIngress:
		return true, true
	case DirOut, DirTx, DirEgress:
		return false, true
	}
	return false, false
}

// PktMonEvent is an event 160 or 170 payload.
type PktMonEvent struct {
	Drop            bool // event 170
	GroupID         uint64
	Number          uint16
	AppearanceCount uint16
	Dir             DirTag
	Type            PacketType
	ComponentID     uint16
	EdgeID          uint16
	FilterID        uint16
	DropReason      uint32
	DropLocation    uint32
	// OriginalSize is the packet's length; the Payload PktMon logged may
	// be shorter (pktmon start --pkt-size).
	OriginalSize uint16
	// Payload aliases the event's user data.
	Payload []byte
}

// ParsePktMon parses the user data of PktMon event id (EventPacket or
// EventDrop).
func ParsePktMon(id uint16, data []byte) (PktMonEvent, error) {
	if id != EventPacket && id != EventDrop {
		return PktMonEvent{}, fmt.Errorf("parse PktMon event: id %d is neither %d nor %d", id, EventPacket, EventDrop)
	}
	if len(data) < pktmonFixedSize {
		return PktMonEvent{}, fmt.Errorf("parse PktMon event %d: %d bytes, shorter than its %d fixed bytes", id, len(data), pktmonFixedSize)
	}
	le := binary.LittleEndian
	logged := int(le.Uint16(data[loggedSizeOff:]))
	if logged != len(data)-payloadOff {
		return PktMonEvent{}, fmt.Errorf("parse PktMon event %d: LoggedPayloadSize %d, but %d payload bytes", id, logged, len(data)-payloadOff)
	}
	ev := PktMonEvent{
		Drop:            id == EventDrop,
		GroupID:         le.Uint64(data[pktGroupIDOff:]),
		Number:          le.Uint16(data[pktNumberOff:]),
		AppearanceCount: le.Uint16(data[appearanceCountOff:]),
		Dir:             DirTag(le.Uint16(data[dirTagOff:])),
		Type:            PacketType(le.Uint16(data[packetTypeOff:])),
		ComponentID:     le.Uint16(data[componentIDOff:]),
		EdgeID:          le.Uint16(data[edgeIDOff:]),
		FilterID:        le.Uint16(data[filterIDOff:]),
		DropReason:      le.Uint32(data[dropReasonOff:]),
		DropLocation:    le.Uint32(data[dropLocationOff:]),
		OriginalSize:    le.Uint16(data[originalSizeOff:]),
		Payload:         data[payloadOff:],
	}
	if int(ev.OriginalSize) < logged {
		return PktMonEvent{}, fmt.Errorf("parse PktMon event %d: OriginalPayloadSize %d below LoggedPayloadSize %d", id, ev.OriginalSize, logged)
	}
	return ev, nil
}
