package dns

import (
	"encoding/binary"
	"errors"

	mdns "github.com/miekg/dns"

	"github.com/foveanet/fovea/model/record"
)

// SnippetLen is how many payload bytes the datapath hands over: a UDP
// payload of this length may have been cut.
const SnippetLen = 512

const headerLen = 12 // DNS header; ANCOUNT, NSCOUNT, ARCOUNT at 6, 8, 10

var (
	errEmpty      = errors.New("empty payload")
	errNoQuestion = errors.New("message has no question")
)

// unpacker decodes messages. Its scratch buffer makes it single-goroutine.
type unpacker struct {
	scratch [SnippetLen]byte
}

// unpack decodes the message at the start of a UDP or TCP payload (TCP
// with its 2-byte length prefix). cut reports that the snippet ended before
// the message did; then the answers that fit are returned without the rest.
func (u *unpacker) unpack(proto uint8, payload []byte) (m *mdns.Msg, cut bool, err error) {
	if len(payload) == 0 {
		return nil, false, errEmpty
	}
	if proto == record.ProtoTCP {
		if len(payload) < 2 {
			return nil, false, errors.New("TCP payload shorter than its length prefix")
		}
		n := int(binary.BigEndian.Uint16(payload))
		payload = payload[2:]
		cut = n > len(payload)
		payload = payload[:min(n, len(payload))]
	} else {
		cut = len(payload) >= SnippetLen
	}
	m = new(mdns.Msg)
	err = m.Unpack(payload)
	if err != nil && cut {
		m, err = u.salvage(payload)
	}
	if err != nil {
		return nil, cut, err
	}
	if len(m.Question) == 0 {
		return nil, cut, errNoQuestion
	}
	return m, cut, nil
}

// salvage decodes a message cut short: the header, the questions and the
// longest run of answers that fit. It lets miekg/dns do the decoding by
// lowering the header's counts (authority and additional to zero, answers
// found by binary search) in a copy of the payload.
func (u *unpacker) salvage(payload []byte) (*mdns.Msg, error) {
	if len(payload) < headerLen || len(payload) > len(u.scratch) {
		return nil, errors.New("cut message without a complete header")
	}
	buf := u.scratch[:len(payload)]
	copy(buf, payload)
	clear(buf[8:headerLen])
	try := func(answers int) (*mdns.Msg, error) {
		binary.BigEndian.PutUint16(buf[6:], uint16(answers))
		m := new(mdns.Msg)
		return m, m.Unpack(buf)
	}
	best, err := try(0)
	if err != nil {
		return nil, err // the question itself does not fit
	}
	lo, hi := 0, int(binary.BigEndian.Uint16(payload[6:]))
	for lo < hi { // invariant: lo answers decode
		mid := lo + (hi-lo+1)/2
		if m, err := try(mid); err == nil && len(m.Answer) == mid {
			best, lo = m, mid
		} else {
			hi = mid - 1
		}
	}
	return best, nil
}
