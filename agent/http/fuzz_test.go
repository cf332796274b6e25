package http

import (
	"slices"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/proto"
)

// FuzzParseHead feeds arbitrary bytes to the head parser: it must never
// panic, and what it accepts must be consistent.
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{
		"GET /a?b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.0 101 Switching\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
		"POST / HTTP/1.1\nContent-Length: 99999999999999999999\n\n",
		"GET / HTTP/1.1\r\nHost: h",
		"GET /",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHead(string(b))
		if err != nil {
			return
		}
		if h.complete && (h.size <= 0 || h.size > len(b)) {
			t.Fatalf("head size %d of %d bytes", h.size, len(b))
		}
		if h.response && (h.code < 100 || h.code > 999) || !h.response && !isToken(h.method) {
			t.Fatalf("accepted %q as %+v", b, h)
		}
		if len(h.headers) > maxHeaders || h.length < -1 || h.proto != "HTTP/1.1" && h.proto != "HTTP/1.0" {
			t.Fatalf("accepted %q as %+v", b, h)
		}
	})
}

// FuzzParser drives a connection through the parser with segments an
// input describes: each is a control byte (bit 0: from the server; bit 1:
// resend at the previous sequence number; bit 2: skip 1000 bytes, as a
// segment not sent to the parser; bit 3: seen at the uplink), a length
// byte and that many bytes. The parser must never panic, and every
// response it reports must answer a request it reported on that
// connection, later than the one the previous response answered.
func FuzzParser(f *testing.F) {
	seg := func(ctl byte, s string) []byte { return append([]byte{ctl, byte(len(s))}, s...) }
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	f.Add(cat(seg(0, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"), seg(1, ok200)))
	f.Add(cat(seg(0, "POST /p HTTP/1.1\r\nContent-Length: 20\r\n\r\n"), seg(0, "GET /x HTTP/1.1\r\n\r\n"), seg(1, ok200)))
	f.Add(cat(seg(0, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"), seg(1, ok200+ok200), seg(3, ok200)))
	f.Add(cat(seg(0, "GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"), seg(1, "HTTP/1.1 101 S\r\n\r\n"), seg(0, "GET / HTTP/1.1\r\n\r\n")))
	f.Add(cat(seg(1, ok200), seg(0, "GET /"), seg(4, "GET / HTTP/1.1\r\n\r\n"), seg(8, "PRI * HTTP/2.0\r\n")))
	f.Add(cat(seg(0, "GET /\xff HTTP/1.1\r\nHost: h\xfe\r\nX: \xff\r\n\r\n"), seg(1, "HTTP/1.1 200 \xff\r\nY: \xc3\r\n\r\n")))
	f.Fuzz(func(t *testing.T, script []byte) {
		p, store := newParser(t, Config{Connections: 4, RedactURLQuery: true})
		c := &tconn{t: t, p: p, store: store, side: clientSide, cport: 40000, cseq: ^uint32(0) - 100, sseq: 7}
		var lastC, lastS uint32
		for len(script) >= 2 {
			ctl, n := script[0], int(script[1])
			script = script[2:]
			n = min(n, len(script))
			data := string(script[:n])
			script = script[n:]
			c.now += 1000
			fromClient := ctl&1 == 0
			seq, last := &c.cseq, &lastC
			if !fromClient {
				seq, last = &c.sseq, &lastS
			}
			if ctl&4 != 0 {
				*seq += 1000
			}
			c.side = clientSide
			if ctl&8 != 0 {
				c.side = uplink
			}
			if ctl&2 != 0 {
				c.sendAt(fromClient, *last, data)
				continue
			}
			*last = *seq
			c.send(fromClient, data)
		}
		var requests []string
		answered := 0
		for _, fl := range c.flows {
			// Every string valid UTF-8: the flow can be sent.
			if _, err := proto.Marshal(fl.l7); err != nil {
				t.Fatalf("details %v do not marshal: %v", fl.l7, err)
			}
			switch fl.l7.GetType() {
			case flowpb.L7FlowType_REQUEST:
				requests = append(requests, fl.l7.GetHttp().GetMethod()+" "+fl.l7.GetHttp().GetUrl())
			case flowpb.L7FlowType_RESPONSE:
				got := fl.l7.GetHttp().GetMethod() + " " + fl.l7.GetHttp().GetUrl()
				i := slices.Index(requests[answered:], got)
				if i < 0 {
					t.Fatalf("response for %q answers no reported request after the last answered: %v", got, c.summaries())
				}
				answered += i + 1
			}
		}
	})
}

// FuzzURL checks that the URLs built without net/url are the ones net/url
// builds.
func FuzzURL(f *testing.F) {
	for _, s := range []string{"/a/b?c=d", "/a?", "/a??b", "/!$&'()*+,;=:@~", "/p#f", "//h/p", "/%41"} {
		f.Add(s, "web:8080", true)
	}
	f.Fuzz(func(t *testing.T, target, host string, query bool) {
		r := redaction{query: query, userInfo: true}
		fast, ok := r.plainURL(target, host)
		if !ok {
			return
		}
		slow, ok := r.parsedURL(target, host)
		if !ok || fast != slow {
			t.Fatalf("target %q host %q query %v: %q, net/url says %q (%v)", target, host, query, fast, slow, ok)
		}
	})
}
