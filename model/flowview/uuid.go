package flowview

import "encoding/hex"

// uuidOf derives a flow's UUID from the agent's boot ID and the flow's ring
// sequence number instead of storing 16 random bytes per record: unique per
// agent run, stable for every client that reads the same flow. The version
// nibble says 8 (vendor-defined, RFC 9562) and the variant is RFC 4122.
func uuidOf(boot [8]byte, seq uint64) string {
	return string(appendUUID(nil, boot, seq))
}

// appendUUID appends uuidOf's text to b.
func appendUUID(b []byte, boot [8]byte, seq uint64) []byte {
	var u [16]byte
	copy(u[:8], boot[:])
	for i := range 8 {
		u[15-i] = byte(seq >> (8 * i))
	}
	u[6] = u[6]&0x0f | 0x80
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return append(b, s[:]...)
}
