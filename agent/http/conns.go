package http

import (
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// maxPending bounds the requests one connection may have awaiting
// responses (pipelining); beyond it the oldest is counted as unanswered.
const maxPending = 64

// connKey is a connection as seen at one interface, oriented from its
// client: the request and its response meet under it, and the two pods'
// interfaces keep apart.
type connKey struct {
	client, server [16]byte
	cport, sport   uint16
	iface          intern.Ref
	v6             bool
}

// keyOf returns the connection of pkt, which carries a response when
// response is set (its source is then the server).
func keyOf(pkt *record.Record, response bool) connKey {
	k := connKey{client: pkt.Src, server: pkt.Dst, cport: pkt.SrcPort, sport: pkt.DstPort, iface: pkt.Iface, v6: pkt.IsIPv6()}
	if response {
		k.client, k.server, k.cport, k.sport = k.server, k.client, k.sport, k.cport
	}
	return k
}

// conn is what the parser knows of one connection at one interface.
type conn struct {
	// pending are the requests awaiting responses, oldest first.
	pending []request
	// req and resp are the last message each way.
	req, resp stream
	// upgraded is set once the connection left HTTP/1.x (101 Switching
	// Protocols, a CONNECT tunnel, the HTTP/2 preface): nothing on it is
	// parsed any more.
	upgraded bool
}

// request is a request awaiting its response.
type request struct {
	time               int64
	method, url, proto string
	// reported is false for a request whose start line the snippet cut:
	// its response is consumed, in order, without a flow.
	reported bool
}

// push appends r, reporting whether the oldest request was dropped to
// make room.
func (c *conn) push(r request) (dropped bool) {
	if len(c.pending) == maxPending {
		c.pending = append(c.pending[:0], c.pending[1:]...)
		dropped = true
	}
	c.pending = append(c.pending, r)
	return dropped
}

// pop removes and returns the oldest request.
func (c *conn) pop() (request, bool) {
	if len(c.pending) == 0 {
		return request{}, false
	}
	r := c.pending[0]
	c.pending = append(c.pending[:0], c.pending[1:]...)
	return r, true
}

// stream is where the last message one way lies in its TCP stream, by
// sequence number: a segment inside it is a retransmission of its head or
// a piece of its body, never a message of its own.
type stream struct {
	start, end uint32
	// seen says start is set; ended that end is (the body's length was
	// declared).
	seen, ended bool
}

// inside reports whether the segment at seq belongs to the last message.
// Without a declared length only the head's own retransmission does.
// Sequence numbers wrap, so distances are taken modulo 2^32.
func (s *stream) inside(seq uint32) bool {
	switch {
	case !s.seen:
		return false
	case !s.ended:
		return seq == s.start
	}
	return seq-s.start < s.end-s.start
}

// message records a message at start, ending at end if ended.
func (s *stream) message(start, end uint32, ended bool) {
	*s = stream{start: start, end: end, seen: true, ended: ended}
}
