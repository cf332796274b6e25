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
	// start and end are where the request lies in its stream (end only
	// if ended: its length was declared); ack is what its segment
	// acknowledged of the responses' stream.
	start, end, ack uint32
	ended           bool
	// afterGap says bytes no message accounts for precede it: a request
	// the parser did not see (refused by the rate limit) may have.
	afterGap bool
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

// answered removes and returns the request that a response starting at
// start and acknowledging ack answers, with how many older requests it
// shows went unanswered (their responses missed); ok is false when it
// answers no request seen, or none the parser can tell. HTTP/1.1 answers
// in order, but the parser may miss messages (the rate limit, a snippet
// cut), so the order alone could pair a response with the wrong request.
// TCP's numbers tell:
//
//   - the candidates are the requests the server had begun receiving:
//     those starting before ack. None: the response answers a request the
//     parser did not see.
//   - the oldest candidate is answered when no response was missed since
//     the last one (this one starts where it ended), when it is the only
//     one, or when the candidates were pipelined (each sent acknowledging
//     as much as the first: no response arrived between them);
//   - otherwise responses to the older candidates were missed: they are
//     dropped and the newest candidate is answered.
//
// Then it is unsure, and nothing is answered, if the request chosen
// follows bytes no request seen accounts for (an unseen request may be
// the one answered), or if the server had received past its end bytes no
// request seen accounts for.
func (c *conn) answered(start, ack uint32) (r request, missed int, ok bool) {
	k := -1
	for i := range c.pending {
		// Within reuseGap: a request of an earlier connection on the
		// same ports is no candidate.
		if !before(c.pending[i].start, ack) || ack-c.pending[i].start > reuseGap {
			break
		}
		k = i
	}
	if k < 0 {
		return request{}, 0, false
	}
	contiguous := c.resp.ended && start == c.resp.end
	pipelined := true
	for _, q := range c.pending[1 : k+1] {
		pipelined = pipelined && q.ack == c.pending[0].ack
	}
	pick := 0
	if !contiguous && !pipelined {
		pick = k
	}
	r = c.pending[pick]
	c.pending = append(c.pending[:0], c.pending[pick+1:]...)
	switch {
	case r.afterGap:
		return request{}, pick + 1, false
	case pick == k && !contiguous && r.ended && before(r.end, ack):
		return request{}, pick + 1, false
	}
	return r, pick, true
}

// before reports whether sequence number a precedes b, modulo 2^32.
func before(a, b uint32) bool { return int32(a-b) < 0 }

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

// reuseGap is how far from the last message's end a message may start and
// still be on the same connection: further, it is a new connection on the
// same ports (initial sequence numbers are random). Messages the parser
// missed in between span far less.
const reuseGap = 1 << 28

// far reports whether a message starting at seq is too far from the last
// one's end to be on the same connection.
func (s *stream) far(seq uint32) bool {
	return s.ended && min(seq-s.end, s.end-seq) > reuseGap
}

// gapBefore reports whether a message starting at start leaves bytes
// after the last one's end that no message seen accounts for.
func (s *stream) gapBefore(start uint32) bool { return s.ended && start != s.end }

// message records a message at start, ending at end if ended.
func (s *stream) message(start, end uint32, ended bool) {
	*s = stream{start: start, end: end, seen: true, ended: ended}
}
