package flowmetrics

import (
	"encoding/binary"
	"math"
	"strings"
	"unicode/utf8"
)

// A series key is its label values, each a 2-byte big-endian length and
// the value's bytes, appended in a reused buffer: a map lookup with it
// allocates nothing, and a new series decodes its label values from it.

// valueHeader is the length prefix of each value in a key.
const valueHeader = 2

// beginValue starts a value at the end of key; endValue finishes it.
func beginValue(key []byte) []byte { return append(key, 0, 0) }

// endValue finishes the value begun at at: it is made valid UTF-8 (which
// Prometheus requires; DNS names and queries come off the wire) and cut to
// the longest length the prefix holds.
func endValue(key []byte, at int) []byte {
	v := key[at+valueHeader:]
	if !utf8.Valid(v) {
		fixed := strings.ToValidUTF8(string(v), "\uFFFD")
		key = append(key[:at+valueHeader], fixed...)
		v = key[at+valueHeader:]
	}
	if len(v) > math.MaxUint16 {
		n := math.MaxUint16
		for n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		key, v = key[:at+valueHeader+n], v[:n]
	}
	binary.BigEndian.PutUint16(key[at:], uint16(len(v)))
	return key
}

// appendName appends one of the package's own names (a protocol, verdict
// or flag; valid UTF-8, short) as one value.
func appendName(key []byte, s string) []byte {
	key = append(key, byte(len(s)>>8), byte(len(s)))
	return append(key, s...)
}

// appendValue appends s, which comes from the wire or the cluster, as one
// value.
func appendValue(key []byte, s string) []byte {
	at := len(key)
	return endValue(append(beginValue(key), s...), at)
}

// decodeKey returns the values of key, which share its memory.
func decodeKey(key string) []string {
	var values []string
	for len(key) >= valueHeader {
		n := int(key[0])<<8 | int(key[1])
		values = append(values, key[valueHeader:valueHeader+n])
		key = key[valueHeader+n:]
	}
	return values
}
