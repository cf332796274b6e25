package http

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/proto"

	"github.com/foveanet/fovea/model/record"
)

func newConn(t *testing.T, cfg Config, s side) *tconn {
	p, store := newParser(t, cfg)
	return &tconn{t: t, p: p, store: store, side: s, cport: 40000, cseq: 1000, sseq: 5000, now: 1_000_000_000}
}

func (c *tconn) want(lines ...string) {
	c.t.Helper()
	if got := c.summaries(); !slices.Equal(got, lines) {
		c.t.Fatalf("flows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(lines, "\n"))
	}
}

const ok200 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

func TestKeepAliveClientSide(t *testing.T) {
	c := newConn(t, Config{RedactURLQuery: true, HeadersDeny: DefaultHeadersDeny}, clientSide)
	for i, path := range []string{"/a?token=secret", "/b", "/missing"} {
		c.send(true, "GET "+path+" HTTP/1.1\r\nHost: web:8080\r\nAuthorization: Bearer x\r\nUser-Agent: curl\r\n\r\n")
		c.now += int64(i+1) * int64(time.Millisecond)
		if path == "/missing" {
			c.send(false, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
		} else {
			c.send(false, ok200)
		}
	}
	c.want("REQUEST GET http://web:8080/a", "RESPONSE 200 GET http://web:8080/a",
		"REQUEST GET http://web:8080/b", "RESPONSE 200 GET http://web:8080/b",
		"REQUEST GET http://web:8080/missing", "RESPONSE 404 GET http://web:8080/missing")
	req, resp := c.flows[0], c.flows[5]
	if req.rec.Kind != record.KindL7 || req.rec.ObsPoint != uint8(flowpb.TraceObservationPoint_FROM_ENDPOINT) || req.rec.TCPFlags != 0 {
		t.Errorf("request record %+v", req.rec)
	}
	if reply, known := req.rec.Reply(); reply || !known {
		t.Error("a request is marked as a reply")
	}
	if reply, _ := resp.rec.Reply(); !reply || resp.rec.SrcAddr() != serverAddr {
		t.Errorf("response record %+v", resp.rec)
	}
	if got := resp.l7.GetLatencyNs(); got != uint64(3*time.Millisecond) {
		t.Errorf("latency %d, want 3ms", got)
	}
	if req.l7.GetLatencyNs() != 0 || req.l7.GetHttp().GetCode() != 0 || req.l7.GetHttp().GetProtocol() != "HTTP/1.1" {
		t.Errorf("request details %v", req.l7)
	}
	hs := req.l7.GetHttp().GetHeaders()
	want := []*flowpb.HTTPHeader{{Key: "Host", Value: "web:8080"}, {Key: "Authorization", Value: redacted}, {Key: "User-Agent", Value: "curl"}}
	if len(hs) != len(want) {
		t.Fatalf("headers %v", hs)
	}
	for i := range want {
		if hs[i].GetKey() != want[i].GetKey() || hs[i].GetValue() != want[i].GetValue() {
			t.Errorf("header %d = %v, want %v", i, hs[i], want[i])
		}
	}
	if n := c.p.counters.messages[messageRequest].Load(); n != 3 {
		t.Errorf("requests counted %d", n)
	}
}

func TestServerSideAndUplink(t *testing.T) {
	c := newConn(t, Config{}, serverSide)
	c.send(true, "POST /submit HTTP/1.1\r\nHost: web\r\nContent-Length: 3\r\n\r\nabc")
	c.now += 100 * int64(time.Millisecond)
	c.send(false, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
	c.want("REQUEST POST http://web/submit", "RESPONSE 500 POST http://web/submit")
	if c.flows[1].rec.ObsPoint != uint8(flowpb.TraceObservationPoint_FROM_ENDPOINT) || c.flows[1].l7.GetLatencyNs() != uint64(100*time.Millisecond) {
		t.Errorf("server-side response %+v %v", c.flows[1].rec, c.flows[1].l7)
	}

	u := newConn(t, Config{}, uplink)
	u.send(true, "GET / HTTP/1.1\r\n\r\n")
	u.send(false, ok200)
	u.want()
	if n := u.p.counters.ignored[ignoredNotEndpoint].Load(); n != 2 {
		t.Errorf("not_endpoint %d, want 2", n)
	}
}

func TestURL(t *testing.T) {
	for _, c := range []struct {
		cfg          Config
		target, host string
		want         string
	}{
		{Config{}, "/p?q=1#f", "h", "http://h/p?q=1#f"},
		{Config{RedactURLQuery: true}, "/p?q=1#f", "h", "http://h/p"},
		{Config{}, "/p", "", "http://10.0.2.8:8080/p"},
		{Config{RedactUserInfo: true}, "http://u:pw@h/p", "", "http://u:" + redacted + "@h/p"},
		{Config{}, "*", "h", "http://h/*"},
		{Config{}, "h:443", "", "//h:443"},
	} {
		p, store := newParser(t, c.cfg)
		tc := &tconn{t: t, p: p, store: store, side: clientSide, cport: 1}
		method := "GET"
		if c.target == "h:443" {
			method = "CONNECT"
		} else if c.target == "*" {
			method = "OPTIONS"
		}
		host := ""
		if c.host != "" {
			host = "Host: " + c.host + "\r\n"
		}
		tc.send(true, method+" "+c.target+" HTTP/1.1\r\n"+host+"\r\n")
		if len(tc.flows) != 1 || tc.flows[0].l7.GetHttp().GetUrl() != c.want {
			t.Errorf("%s %s (host %q): flows %v, want URL %q", method, c.target, c.host, tc.summaries(), c.want)
		}
	}
}

// TestNotUTF8: bytes above 0x7f where HTTP allows them (header values, a
// Host) still make flows whose strings are UTF-8, or they could not be
// sent.
func TestNotUTF8(t *testing.T) {
	c := newConn(t, Config{}, clientSide)
	c.send(true, "GET /a HTTP/1.1\r\nHost: h\xff\r\nX-Name: caf\xe9\r\n\r\n")
	c.send(false, "HTTP/1.1 200 OK\r\nX-Y: \xc3\r\nContent-Length: 0\r\n\r\n")
	if len(c.flows) != 2 {
		t.Fatalf("flows %v", c.summaries())
	}
	for _, f := range c.flows {
		if _, err := proto.Marshal(f.l7); err != nil {
			t.Errorf("%v does not marshal: %v", f.l7, err)
		}
	}
	if got := c.flows[0].l7.GetHttp().GetHeaders()[1].GetValue(); got != "caf\uFFFD" {
		t.Errorf("header value %q", got)
	}
}

func TestHeaderAllowList(t *testing.T) {
	c := newConn(t, Config{HeadersAllow: []string{"user-agent"}}, clientSide)
	c.send(true, "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: curl\r\n\r\n")
	hs := c.flows[0].l7.GetHttp().GetHeaders()
	if hs[0].GetValue() != redacted || hs[1].GetValue() != "curl" {
		t.Errorf("headers %v", hs)
	}
}

func TestPipelining(t *testing.T) {
	c := newConn(t, Config{}, clientSide)
	// Two requests in one segment, a third in its own.
	c.send(true, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody")
	c.send(true, "HEAD /3 HTTP/1.1\r\nHost: h\r\n\r\n")
	// Three responses in one segment: the HEAD's declares a length it
	// does not send.
	c.send(false, ok200+"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n")
	c.want("REQUEST GET http://h/1", "REQUEST POST http://h/2", "REQUEST HEAD http://h/3",
		"RESPONSE 200 GET http://h/1", "RESPONSE 201 POST http://h/2", "RESPONSE 200 HEAD http://h/3")
}

func TestBodyStartingLikeARequest(t *testing.T) {
	c := newConn(t, Config{}, clientSide)
	body := "GET /not-a-request HTTP/1.1\r\nHost: h\r\n\r\n"
	c.send(true, "POST /upload HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n")
	c.send(false, "HTTP/1.1 100 Continue\r\n\r\n")
	c.send(true, body)
	c.send(false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	c.want("REQUEST POST http://h/upload", "RESPONSE 200 POST http://h/upload")
	if n := c.p.counters.ignored[ignoredInside].Load(); n != 1 {
		t.Errorf("inside_message %d, want 1", n)
	}
	// A response body starting like a response is no response either.
	c.send(true, "GET /big HTTP/1.1\r\nHost: h\r\n\r\n")
	c.send(false, "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n")
	c.send(false, "HTTP/1.1 500 x\r\nContent-Length: 0\r\n\r\n1234567")
	c.want("REQUEST POST http://h/upload", "RESPONSE 200 POST http://h/upload", "REQUEST GET http://h/big", "RESPONSE 200 GET http://h/big")
}

func TestRetransmission(t *testing.T) {
	c := newConn(t, Config{}, clientSide)
	req := "GET / HTTP/1.1\r\nHost: h\r\n\r\n"
	c.sendAt(true, c.cseq, req)
	c.send(true, req)
	c.sendAt(false, c.sseq, ok200)
	c.send(false, ok200)
	c.want("REQUEST GET http://h/", "RESPONSE 200 GET http://h/")
}

func TestSequenceWraps(t *testing.T) {
	c := newConn(t, Config{}, clientSide)
	c.cseq = ^uint32(0) - 10
	body := "GET /x HTTP/1.1\r\n\r\n"
	c.send(true, "PUT /w HTTP/1.1\r\nHost: h\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n")
	c.send(true, body)
	c.send(false, ok200)
	c.want("REQUEST PUT http://h/w", "RESPONSE 200 PUT http://h/w")
}

func TestSplitRequestLine(t *testing.T) {
	c := newConn(t, Config{}, clientSide)
	c.send(true, "GET /first-half")
	c.send(true, "-second-half HTTP/1.1\r\nHost: h\r\n\r\n")
	c.send(false, ok200)
	// Its response is consumed with it: the next pair lines up.
	c.send(true, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
	c.send(false, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
	c.want("REQUEST GET http://h/next", "RESPONSE 404 GET http://h/next")
	if c.p.counters.cut.Load() != 1 {
		t.Errorf("cut %d, want 1", c.p.counters.cut.Load())
	}
}

func TestHeadCutBySnippet(t *testing.T) {
	c := newConn(t, Config{}, clientSide)
	long := "GET /p HTTP/1.1\r\nHost: h\r\nX-Long: " + strings.Repeat("a", 600) + "\r\n\r\n"
	c.send(true, long)
	c.send(false, ok200)
	c.want("REQUEST GET http://h/p", "RESPONSE 200 GET http://h/p")
}

func TestMidStream(t *testing.T) {
	c := newConn(t, Config{}, clientSide)
	c.send(false, ok200)
	c.send(false, "HTTP/1.1 200 OK\r\n\r\n")
	c.want()
	if c.p.counters.unmatched.Load() != 2 {
		t.Errorf("unmatched %d, want 2", c.p.counters.unmatched.Load())
	}
}

func TestUpgrades(t *testing.T) {
	c := newConn(t, Config{}, serverSide)
	c.send(true, "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	c.send(false, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	c.send(true, "GET / HTTP/1.1\r\n\r\n") // a WebSocket frame, by chance
	c.send(false, ok200)
	c.want("REQUEST GET http://h/ws", "RESPONSE 101 GET http://h/ws")
	if c.p.counters.upgrades.Load() != 1 || c.p.counters.ignored[ignoredUpgraded].Load() != 2 {
		t.Errorf("upgrades %d ignored %d", c.p.counters.upgrades.Load(), c.p.counters.ignored[ignoredUpgraded].Load())
	}

	h2 := newConn(t, Config{}, clientSide)
	h2.send(true, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	h2.send(true, "GET / HTTP/1.1\r\n\r\n")
	h2.want()
	if h2.p.counters.h2Skipped.Load() != 1 {
		t.Errorf("h2 skipped %d, want 1", h2.p.counters.h2Skipped.Load())
	}

	// A refused h2c upgrade stays HTTP/1.1.
	r := newConn(t, Config{}, clientSide)
	r.send(true, "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n")
	r.send(false, ok200)
	r.send(true, "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
	r.send(false, ok200)
	r.want("REQUEST GET http://h/", "RESPONSE 200 GET http://h/", "REQUEST GET http://h/2", "RESPONSE 200 GET http://h/2")
}

func TestMalformed(t *testing.T) {
	c := newConn(t, Config{}, clientSide)
	for _, s := range []string{
		"GET / HTTP/2.0\r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",
		"GET /\x01 HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
		"GET /%zz HTTP/1.1\r\n\r\n",
	} {
		c.send(true, s)
	}
	c.send(false, "HTTP/1.1 2000 OK\r\n\r\n")
	c.send(false, "HTTP/1.1 20x OK\r\n\r\n")
	c.want()
	if n := c.p.counters.parseErrors.Load(); n != 8 {
		t.Errorf("parse errors %d, want 8", n)
	}
}

func TestBoundedTable(t *testing.T) {
	p, store := newParser(t, Config{Connections: 1})
	a := &tconn{t: t, p: p, store: store, side: clientSide, cport: 1}
	b := &tconn{t: t, p: p, store: store, side: clientSide, cport: 2}
	a.send(true, "GET / HTTP/1.1\r\n\r\n")
	b.send(true, "GET / HTTP/1.1\r\n\r\n")
	if n := p.counters.unanswered[unansweredEvicted].Load(); n != 1 {
		t.Errorf("evicted %d, want 1", n)
	}
	a.send(false, ok200)
	if len(a.flows) != 1 || p.counters.unmatched.Load() != 1 {
		t.Errorf("a response to an evicted connection: flows %v, unmatched %d", a.summaries(), p.counters.unmatched.Load())
	}
	for range maxPending + 1 {
		b.send(true, "GET / HTTP/1.1\r\n\r\n")
	}
	if n := p.counters.unanswered[unansweredOverflow].Load(); n != 2 {
		t.Errorf("overflow %d, want 2", n)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		err string
	}{
		{Config{}, ""},
		{Config{HeadersAllow: []string{"a"}, HeadersDeny: DefaultHeadersDeny}, ""},
		{Config{HeadersAllow: []string{"a"}, HeadersDeny: []string{"b"}}, "set one list"},
		{Config{HeadersDeny: []string{"bad name"}}, "--hubble-redact-http-headers-deny"},
		{Config{RateLimit: 1 << 25}, "--http-rate-limit"},
		{Config{Connections: -1}, "--http-connections"},
		{Config{Disable: true, Connections: -1}, ""},
	} {
		err := c.cfg.Validate()
		if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("Validate(%+v) = %v, want %q", c.cfg, err, c.err)
		}
	}
	if (Config{Disable: true, RateLimit: 5}).Rate() != 0 || (Config{}).Rate() != DefaultRateLimit {
		t.Error("Rate")
	}
}

// TestPortsReused: a new connection on the same ports starts its streams
// elsewhere; the old one's unanswered request must not take its response.
func TestPortsReused(t *testing.T) {
	c := newConn(t, Config{}, clientSide)
	c.send(true, "GET /old HTTP/1.1\r\nHost: h\r\n\r\n")
	c.cseq, c.sseq = c.cseq+1<<31, c.sseq+1<<30
	c.send(true, "GET /new HTTP/1.1\r\nHost: h\r\n\r\n")
	c.send(false, ok200)
	c.want("REQUEST GET http://h/old", "REQUEST GET http://h/new", "RESPONSE 200 GET http://h/new")
	if n := c.p.counters.unanswered[unansweredMissed].Load(); n != 1 {
		t.Errorf("missed %d, want 1", n)
	}
}

// TestMissedSegments: messages the parser never saw (the rate limit
// refused them) must not shift the pairing of the others.
func TestMissedSegments(t *testing.T) {
	get := func(p string) string { return "GET " + p + " HTTP/1.1\r\nHost: h\r\n\r\n" }
	created := "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
	for _, c := range []struct {
		name      string
		run       func(c *tconn)
		want      []string
		unmatched uint64
		missed    uint64
	}{
		{"a response missed", func(c *tconn) {
			c.send(true, get("/1"))
			c.skip(false, ok200)
			c.send(true, get("/2"))
			c.send(false, created)
		}, []string{"REQUEST GET http://h/1", "REQUEST GET http://h/2", "RESPONSE 201 GET http://h/2"}, 0, 1},
		{"a request missed", func(c *tconn) {
			c.skip(true, get("/1"))
			c.send(false, ok200)
			c.send(true, get("/2"))
			c.send(false, created)
		}, []string{"REQUEST GET http://h/2", "RESPONSE 201 GET http://h/2"}, 1, 0},
		{"a response and the next request missed", func(c *tconn) {
			c.send(true, get("/1"))
			c.skip(false, ok200)
			c.skip(true, get("/2"))
			c.send(false, created)
		}, []string{"REQUEST GET http://h/1"}, 1, 1},
		{"the last of a pipelined burst missed", func(c *tconn) {
			c.send(true, get("/1")+get("/2"))
			c.skip(true, get("/3"))
			c.send(false, ok200)
			c.send(false, created)
			c.send(false, ok200)
		}, []string{"REQUEST GET http://h/1", "REQUEST GET http://h/2", "RESPONSE 200 GET http://h/1", "RESPONSE 201 GET http://h/2"}, 1, 0},
		{"the middle of a pipelined burst missed", func(c *tconn) {
			c.send(true, get("/1"))
			c.skip(true, get("/2"))
			c.send(true, get("/3"))
			c.send(false, ok200)
			c.send(false, created)
			c.send(false, ok200)
		}, []string{"REQUEST GET http://h/1", "REQUEST GET http://h/3", "RESPONSE 200 GET http://h/1"}, 2, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			tc := newConn(t, Config{}, clientSide)
			c.run(tc)
			tc.want(c.want...)
			if u, m := tc.p.counters.unmatched.Load(), tc.p.counters.unanswered[unansweredMissed].Load(); u != c.unmatched || m != c.missed {
				t.Errorf("unmatched %d missed %d, want %d and %d", u, m, c.unmatched, c.missed)
			}
		})
	}
}
