package windows

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// GUID is a Windows GUID as it lies in memory: Data1, Data2 and Data3
// little-endian, Data4 as bytes. It is its own type, not x/sys/windows's,
// so that event parsing builds and is tested on every OS.
type GUID struct {
	Data1 uint32
	Data2 uint16
	Data3 uint16
	Data4 [8]byte
}

// Providers this package consumes.
var (
	// PktMonProvider is Microsoft-Windows-PktMon.
	PktMonProvider = MustParseGUID("{4d4f80d9-c8bd-4d73-bb5b-19c90402c5ac}")
	// LostEventProvider is RT_LostEvent, which ETW itself uses to report
	// the events and buffers a real-time session lost.
	LostEventProvider = MustParseGUID("{6a399ae0-4bc6-4de9-870b-3657f8947e7e}")
)

// ParseGUID parses "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}", braces optional.
func ParseGUID(s string) (GUID, error) {
	t := strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return GUID{}, fmt.Errorf("parse GUID %q: want {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}", s)
	}
	b, err := hex.DecodeString(t[0:8] + t[9:13] + t[14:18] + t[19:23] + t[24:])
	if err != nil {
		return GUID{}, fmt.Errorf("parse GUID %q: %w", s, err)
	}
	// The string is big-endian throughout.
	g := GUID{Data1: binary.BigEndian.Uint32(b), Data2: binary.BigEndian.Uint16(b[4:]), Data3: binary.BigEndian.Uint16(b[6:])}
	copy(g.Data4[:], b[8:])
	return g, nil
}

// MustParseGUID is ParseGUID for constants.
func MustParseGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

func (g GUID) String() string {
	return fmt.Sprintf("{%08x-%04x-%04x-%x-%x}", g.Data1, g.Data2, g.Data3, g.Data4[:2], g.Data4[2:])
}

// decodeGUID reads a GUID in memory order.
func decodeGUID(b []byte) GUID {
	g := GUID{Data1: binary.LittleEndian.Uint32(b), Data2: binary.LittleEndian.Uint16(b[4:]), Data3: binary.LittleEndian.Uint16(b[6:])}
	copy(g.Data4[:], b[8:16])
	return g
}

// encode writes g in memory order into b.
func (g GUID) encode(b []byte) {
	binary.LittleEndian.PutUint32(b, g.Data1)
	binary.LittleEndian.PutUint16(b[4:], g.Data2)
	binary.LittleEndian.PutUint16(b[6:], g.Data3)
	copy(b[8:16], g.Data4[:])
}
