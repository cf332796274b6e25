package http

import (
	"testing"

	"github.com/foveanet/fovea/bpf"
	"github.com/foveanet/fovea/model/record"
)

// BenchmarkParsePair measures one request and its response through the
// parser on a keep-alive connection: two heads parsed (curl's request,
// a Go server's response), the pair matched, two L7 records made with
// their details stored. Per request.
func BenchmarkParsePair(b *testing.B) {
	p, store := newParser(b, Config{RedactURLQuery: true, HeadersDeny: DefaultHeadersDeny})
	c := &tconn{p: p, store: store, side: clientSide, cport: 40000}
	const req = "GET /api/v1/items?page=2 HTTP/1.1\r\nHost: cart.shop:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"
	const resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Sun, 06 Dec 2026 08:00:00 GMT\r\nContent-Length: 2\r\n\r\n{}"
	reqPkt, respPkt := c.packet(true), c.packet(false)
	emitted := 0
	emit := func(*record.Record) { emitted++ }
	b.ReportAllocs()
	for b.Loop() {
		reqPkt.Time += 1000
		p.Parse(reqPkt, bpf.Snippet{Payload: []byte(req), Seq: c.cseq, Ack: c.sseq, Len: uint32(len(req))}, emit)
		c.cseq += uint32(len(req))
		respPkt.Time = reqPkt.Time + 500
		p.Parse(respPkt, bpf.Snippet{Payload: []byte(resp), Seq: c.sseq, Ack: c.cseq, Len: uint32(len(resp))}, emit)
		c.sseq += uint32(len(resp))
	}
	if emitted != 2*b.N {
		b.Fatalf("%d records for %d requests", emitted, b.N)
	}
}

// BenchmarkParseOffEndpoint measures a snippet seen off a pod's interface
// (the node's uplink), which is only counted.
func BenchmarkParseOffEndpoint(b *testing.B) {
	p, store := newParser(b, Config{})
	c := &tconn{p: p, store: store, side: uplink, cport: 40000}
	pkt := c.packet(true)
	payload := []byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		p.Parse(pkt, bpf.Snippet{Payload: payload, Seq: 1, Len: uint32(len(payload))}, func(*record.Record) { b.Fatal("a record off the endpoint") })
	}
}
