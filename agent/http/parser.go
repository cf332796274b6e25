package http

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/foveanet/fovea/bpf"
	"github.com/foveanet/fovea/model/l7"
	"github.com/foveanet/fovea/model/record"
)

// h2Preface starts every HTTP/2 connection with prior knowledge.
var h2Preface = []byte("PRI * HTTP/2.0\r\n")

// Parser makes L7 records of HTTP/1.x messages. Parse is called from one
// goroutine (it is not safe for concurrent use); Collector may be scraped
// concurrently.
type Parser struct {
	store    *l7.Store
	redact   redaction
	conns    *simplelru.LRU[connKey, *conn]
	out      record.Record
	counters counters
}

// NewParser returns a parser that stores L7 details in store, configured
// by cfg (which Validate accepted).
func NewParser(store *l7.Store, cfg Config) (*Parser, error) {
	if store == nil {
		return nil, errors.New("create HTTP parser: nil L7 store")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("create HTTP parser: %w", err)
	}
	p := &Parser{store: store, redact: cfg.redaction()}
	if cfg.Connections < 1 { // zero, or anything when HTTP is off
		cfg.Connections = DefaultConnections
	}
	conns, err := simplelru.NewLRU(cfg.Connections, func(_ connKey, c *conn) {
		p.counters.unanswered[unansweredEvicted].Add(uint64(len(c.pending)))
	})
	if err != nil {
		return nil, fmt.Errorf("create HTTP parser: %w", err)
	}
	p.conns = conns
	return p, nil
}

// Parse reads the HTTP messages starting at the front of s, the start of a
// TCP segment of pkt, and emits an L7 record for each request and response
// it can report. Only segments at a pod's own interface are read. Neither
// pkt nor s is retained.
func (p *Parser) Parse(pkt *record.Record, s bpf.Snippet, emit func(*record.Record)) {
	payload, seq := s.Payload, s.Seq
	switch flowpb.TraceObservationPoint(pkt.ObsPoint) {
	case flowpb.TraceObservationPoint_FROM_ENDPOINT, flowpb.TraceObservationPoint_TO_ENDPOINT:
	default:
		p.counters.ignored[ignoredNotEndpoint].Add(1)
		return
	}
	if pkt.Proto != record.ProtoTCP || len(payload) == 0 {
		return
	}
	if bytes.HasPrefix(payload, h2Preface) {
		c := p.conn(keyOf(pkt, false), true)
		if !c.upgraded {
			c.upgraded = true
			p.counters.h2Skipped.Add(1)
		}
		return
	}
	response := bytes.HasPrefix(payload, []byte("HTTP/"))
	c := p.conn(keyOf(pkt, response), !response)
	if c == nil {
		// A response on a connection with no request seen: joined in
		// its middle, or its requests were forgotten.
		p.counters.unmatched.Add(1)
		return
	}
	if c.upgraded {
		p.counters.ignored[ignoredUpgraded].Add(1)
		return
	}
	st := &c.req
	if response {
		st = &c.resp
	}
	if st.far(seq) {
		// Not where this connection's stream is: a new connection on
		// the same ports, whose requests the old ones must not answer.
		if !response {
			p.counters.unanswered[unansweredMissed].Add(uint64(len(c.pending)))
			c.pending = c.pending[:0]
		}
		*st = stream{}
	}
	if st.inside(seq) {
		p.counters.ignored[ignoredInside].Add(1)
		return
	}
	// Pipelined messages may share a segment: read each whose start the
	// snippet holds. The heads' strings share one copy of the snippet.
	text := string(payload)
	for off := 0; off < len(text); {
		h, err := parseHead(text[off:])
		start := seq + uint32(off)
		if err != nil {
			if errors.Is(err, errCut) {
				p.counters.cut.Add(1)
				if !response {
					p.push(c, request{time: pkt.Time, start: start, ack: s.Ack, afterGap: c.req.gapBefore(start)})
				}
				st.message(start, 0, false)
			} else {
				p.counters.parseErrors.Add(1)
			}
			return
		}
		if response {
			if !p.response(pkt, c, &h, start, s.Ack, emit) {
				return
			}
		} else {
			p.request(pkt, c, &h, start, s.Ack, emit)
		}
		if !h.complete || h.length < 0 {
			st.message(start, 0, false)
			return
		}
		end := int64(off) + int64(h.size) + h.length
		st.message(start, seq+uint32(end), true)
		if end >= int64(len(text)) || end >= int64(s.Len) || c.upgraded {
			return
		}
		off = int(end)
	}
}

// conn returns the connection of k, adding it if add is set; nil if it is
// unknown and not added.
func (p *Parser) conn(k connKey, add bool) *conn {
	if c, ok := p.conns.Get(k); ok {
		return c
	}
	if !add {
		return nil
	}
	c := &conn{}
	p.conns.Add(k, c)
	return c
}

func (p *Parser) push(c *conn, r request) {
	if c.push(r) {
		p.counters.unanswered[unansweredOverflow].Add(1)
	}
}

// request reports the request h of pkt, which starts at sequence number
// start in a segment acknowledging ack, and queues it for its response.
func (p *Parser) request(pkt *record.Record, c *conn, h *head, start, ack uint32, emit func(*record.Record)) {
	if h.method == "CONNECT" {
		// A tunnel once answered 2xx; until then, its requests queue.
		h.length = 0
	}
	r := request{time: pkt.Time, start: start, ack: ack, afterGap: c.req.gapBefore(start)}
	if h.complete && h.length >= 0 {
		r.end, r.ended = start+uint32(int64(h.size)+h.length), true
	}
	server := netip.AddrPortFrom(pkt.DstAddr(), pkt.DstPort).String()
	u, ok := p.redact.url(h.target, h.host, server)
	if !ok {
		p.counters.parseErrors.Add(1)
		p.push(c, r)
		return
	}
	r.method, r.url, r.proto, r.reported = h.method, u, h.proto, true
	p.push(c, r)
	p.emit(pkt, &flowpb.Layer7{
		Type: flowpb.L7FlowType_REQUEST,
		Record: &flowpb.Layer7_Http{Http: &flowpb.HTTP{
			Method: h.method, Url: u, Protocol: h.proto, Headers: p.redact.headers(h.headers),
		}},
	}, emit)
	p.counters.messages[messageRequest].Add(1)
}

// response pairs the response h of pkt, which starts at sequence number
// start in a segment acknowledging ack, with the request it answers (see
// conn.answered) and reports it. It returns false when it answers no
// request seen, or the connection left HTTP/1.x: nothing after it in the
// segment is read.
func (p *Parser) response(pkt *record.Record, c *conn, h *head, start, ack uint32, emit func(*record.Record)) bool {
	if h.code < 200 && h.code != 101 {
		// Interim (100 Continue, 103 Early Hints): the final response
		// follows, for the same request.
		h.length = 0
		return true
	}
	r, missed, ok := c.answered(start, ack)
	p.counters.unanswered[unansweredMissed].Add(uint64(missed))
	if !ok {
		p.counters.unmatched.Add(1)
		return false
	}
	if r.method == "HEAD" || h.code == 204 || h.code == 304 {
		h.length = 0
	}
	if h.code == 101 || (r.method == "CONNECT" && h.code < 300) {
		c.upgraded = true
		p.counters.upgrades.Add(1)
	}
	if !r.reported {
		return !c.upgraded
	}
	var latency uint64
	if pkt.Time > r.time {
		latency = uint64(pkt.Time - r.time)
	}
	p.emit(pkt, &flowpb.Layer7{
		Type:      flowpb.L7FlowType_RESPONSE,
		LatencyNs: latency,
		Record: &flowpb.Layer7_Http{Http: &flowpb.HTTP{
			Code: uint32(h.code), Method: r.method, Url: r.url, Protocol: h.proto, Headers: p.redact.headers(h.headers),
		}},
	}, emit)
	p.counters.messages[messageResponse].Add(1)
	return !c.upgraded
}

func (p *Parser) emit(pkt *record.Record, l *flowpb.Layer7, emit func(*record.Record)) {
	p.store.Record(pkt, l, &p.out)
	emit(&p.out)
}
