package windows

import (
	"encoding/binary"
	"fmt"
)

// Sizes and offsets of EVENT_RECORD and EVENT_HEADER on 64-bit Windows
// (evntcons.h, evntprov.h), the only layout an amd64 or arm64 agent sees.
const (
	// EventRecordSize is sizeof(EVENT_RECORD).
	EventRecordSize = 112

	offTimeStamp      = 16 // EVENT_HEADER.TimeStamp, LARGE_INTEGER
	offProviderID     = 24 // EVENT_HEADER.ProviderId, GUID
	offEventID        = 40 // EVENT_HEADER.EventDescriptor.Id, USHORT
	offVersion        = 42 // EventDescriptor.Version, UCHAR
	offLevel          = 44 // EventDescriptor.Level, UCHAR
	offOpcode         = 45 // EventDescriptor.Opcode, UCHAR
	offKeyword        = 48 // EventDescriptor.Keyword, ULONGLONG
	offUserDataLength = 86 // EVENT_RECORD.UserDataLength, USHORT (after the 4-byte BufferContext and ExtendedDataCount)
	offUserData       = 96 // EVENT_RECORD.UserData, PVOID
)

// fileTimeEpoch is 1970-01-01 in FILETIME (100 ns since 1601-01-01): ETW
// hands real-time consumers FILETIME stamps unless asked for raw ones.
const fileTimeEpoch = 116444736000000000

// Event is an EVENT_RECORD's header fields the source uses, and its
// UserData.
type Event struct {
	Provider GUID
	ID       uint16
	Version  uint8
	Level    uint8
	Opcode   uint8
	Keyword  uint64
	// Time is the event's time stamp, in Unix nanoseconds.
	Time int64
	// UserData is the event's payload, laid out by the provider's
	// manifest. It aliases the caller's buffer.
	UserData []byte
}

// ParseEventRecord reads the EVENT_RECORD in rec (EventRecordSize bytes as
// Windows lays it out; its pointers are not followed) and takes userData as
// the payload its UserData points to, which must be UserDataLength bytes.
func ParseEventRecord(rec, userData []byte) (Event, error) {
	if len(rec) != EventRecordSize {
		return Event{}, fmt.Errorf("parse event record: %d bytes, want %d", len(rec), EventRecordSize)
	}
	if n := binary.LittleEndian.Uint16(rec[offUserDataLength:]); int(n) != len(userData) {
		return Event{}, fmt.Errorf("parse event record: UserDataLength %d, but %d bytes of user data", n, len(userData))
	}
	ft := int64(binary.LittleEndian.Uint64(rec[offTimeStamp:]))
	return Event{
		Provider: decodeGUID(rec[offProviderID:]),
		ID:       binary.LittleEndian.Uint16(rec[offEventID:]),
		Version:  rec[offVersion],
		Level:    rec[offLevel],
		Opcode:   rec[offOpcode],
		Keyword:  binary.LittleEndian.Uint64(rec[offKeyword:]),
		Time:     (ft - fileTimeEpoch) * 100,
		UserData: userData,
	}, nil
}
