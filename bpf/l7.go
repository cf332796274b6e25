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
// it: enriched) and the first bytes of the L4 payload (at most SnippetMax;
// for TCP the segment's payload, which for DNS starts with the two-byte
// length when the segment starts a message). When Parse returns true the
// source emits out. Neither pkt nor payload may be retained.
type L7Parser interface {
	Parse(pkt *record.Record, payload []byte, out *record.Record) bool
}

// WithL7Parser makes the source capture payload snippets on Config.DNSPorts
// and of HTTP messages, and hand them to p. Without it no payload is captured.
func WithL7Parser(p L7Parser) Option {
	return func(o *options) { o.l7 = p }
}
