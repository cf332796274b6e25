package windows

// packetKey names one packet across the components it crosses: PktMon
// gives every appearance of a packet the same group id and number.
type packetKey struct {
	group  uint64
	number uint16
}

// seenPackets remembers the most recent packets reported, so that a packet
// logged by each component it crosses becomes one record. Appearances of a
// packet are logged within microseconds of each other, so a window of the
// last few thousand packets is enough; a packet whose appearances straddle
// more than that is reported twice, never lost.
type seenPackets struct {
	kinds map[packetKey]uint8 // bits: seenTrace, seenDrop
	order []packetKey         // FIFO of keys, capacity-sized ring
	next  int
}

const (
	seenTrace uint8 = 1 << iota
	seenDrop
)

func newSeenPackets(capacity int) *seenPackets {
	return &seenPackets{kinds: make(map[packetKey]uint8, capacity), order: make([]packetKey, 0, capacity)}
}

// has reports whether k was reported as kind.
func (s *seenPackets) has(k packetKey, kind uint8) bool { return s.kinds[k]&kind != 0 }

// add records that k was reported as kind.
func (s *seenPackets) add(k packetKey, kind uint8) {
	if bits, ok := s.kinds[k]; ok {
		s.kinds[k] = bits | kind
		return
	}
	if len(s.order) < cap(s.order) {
		s.order = append(s.order, k)
	} else {
		delete(s.kinds, s.order[s.next])
		s.order[s.next] = k
		s.next = (s.next + 1) % len(s.order)
	}
	s.kinds[k] = kind
}
