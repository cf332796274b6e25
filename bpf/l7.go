package bpf

import (
	"github.com/foveanet/fovea/model/record"
)

// L7Parser turns packet payloads into application-layer records. The source
// calls it, on its one emitting goroutine, for every captured packet to or
// from a port in Config.DNSPorts that carries payload, and for every TCP
// segment whose payload starts an HTTP/1.x message or the HTTP/2 preface
// (Config.HTTPRate; a segment on a DNS port is never tested): first it emits the
// packet's trace record pkt, then calls Parse with pkt (as the pipeline left
// it: enriched) and the start of the L4 payload (at most SnippetMax bytes;
// for TCP the segment's payload, which for DNS starts with the two-byte
// length when the segment starts a message), with the payload's length and
// TCP sequence number. Parse emits the L7 records it makes through emit,
// the source's (which does not retain them). Neither pkt nor the payload
// may be retained.
type L7Parser interface {
	Parse(pkt *record.Record, s Snippet, emit func(*record.Record))
}

// Snippet is the start of a packet's L4 payload.
type Snippet struct {
	// Payload is the first bytes of the payload, at most SnippetMax.
	Payload []byte
	// Len is the whole payload's length.
	Len uint32
	// Seq is, for TCP, the sequence number of the payload's first byte:
	// where a message starts in its stream, so a parser tells a new
	// message from a retransmission or from a body that looks like one.
	Seq uint32
	// Ack is, for TCP, the acknowledgment number: how much of the other
	// way's stream the sender had received, so a parser tells which
	// request a response can answer.
	Ack uint32
}

// WithL7Parser makes the source capture payload snippets on Config.DNSPorts
// and of HTTP messages, and hand them to p. Without it no payload is captured.
func WithL7Parser(p L7Parser) Option {
	return func(o *options) { o.l7 = p }
}
