package dns

import (
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/foveanet/fovea/model/record"
)

// dupWindow is how close together two sightings of one message must be to
// be one message seen at two observation points; a client's retry of a
// query comes after its timeout, seconds later, and counts again.
const dupWindow = int64(time.Second)

// messageKey identifies a DNS message on the wire.
type messageKey struct {
	src, dst         [16]byte
	srcPort, dstPort uint16
	id               uint16
	proto            uint8
	response         bool
}

// sightings remembers recent messages so that each is reported once,
// however many observation points on its path (the client's veth, the
// node's uplink, the server's veth) see it, as Hubble reports one L7 flow
// per DNS message.
type sightings struct {
	lru *simplelru.LRU[messageKey, int64]
}

func newSightings(capacity int) (*sightings, error) {
	lru, err := simplelru.NewLRU[messageKey, int64](capacity, nil)
	if err != nil {
		return nil, err
	}
	return &sightings{lru: lru}, nil
}

// seen reports whether the message r carries was already seen within
// dupWindow, and records this sighting.
func (s *sightings) seen(r *record.Record, id uint16, response bool) bool {
	k := messageKey{src: r.Src, dst: r.Dst, srcPort: r.SrcPort, dstPort: r.DstPort, id: id, proto: r.Proto, response: response}
	if t, ok := s.lru.Peek(k); ok && r.Time >= t && r.Time-t < dupWindow {
		return true
	}
	s.lru.Add(k, r.Time)
	return false
}
