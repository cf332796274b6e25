//go:build linux

package bpf

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/foveanet/fovea/model/record"
)

// recordingParser is an L7Parser that keeps what it is given and turns
// requests to port 5353 into L7 records.
type recordingParser struct {
	mu    sync.Mutex
	calls []parseCall
}

type parseCall struct {
	pkt     record.Record
	payload []byte
	snippet Snippet // Payload aliases the ring: read payload instead
}

func (p *recordingParser) Parse(pkt *record.Record, s Snippet, emit func(*record.Record)) {
	p.mu.Lock()
	p.calls = append(p.calls, parseCall{*pkt, bytes.Clone(s.Payload), s})
	p.mu.Unlock()
	if pkt.DstPort != 5353 {
		return
	}
	out := *pkt
	out.Kind = record.KindL7
	emit(&out)
}

// wait returns the first call matching pred.
func (p *recordingParser) wait(t *testing.T, what string, pred func(*parseCall) bool) parseCall {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		for _, c := range p.calls {
			if pred(&c) {
				p.mu.Unlock()
				return c
			}
		}
		p.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no parse call for %s", what)
	return parseCall{}
}

// dnsQuery is a DNS query for example.com/A, 29 bytes.
var dnsQuery = []byte{
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0x00, 0x01, 0x00, 0x01,
}

// testSnippets checks that the parser gets the exact L4 payload of packets
// on the configured ports, truncated to SnippetMax, and nothing else. The
// pod's echo servers answer with the same bytes.
func testSnippets(t *testing.T) {
	host4, pod4 := netip.MustParseAddr(hostIPv4), netip.MustParseAddr(podIPv4)
	t.Run("udp", func(t *testing.T) {
		p := &recordingParser{}
		c := startCapture(t, Config{Interfaces: []string{hostIf}, DNSPorts: []uint16{5353}}, WithL7Parser(p))
		c.waitHook(t, hostIf+":true", 5*time.Second)
		defer c.stop(t)

		large := bytes.Repeat([]byte{0xab}, SnippetMax+100)
		uc, err := net.Dial("udp", net.JoinHostPort(podIPv4, "5353"))
		if err != nil {
			t.Fatal(err)
		}
		defer uc.Close()
		_ = uc.SetDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 2048)
		for _, msg := range [][]byte{dnsQuery, large} {
			if _, err := uc.Write(msg); err != nil {
				t.Fatal(err)
			}
			if _, err := uc.Read(buf); err != nil {
				t.Fatal(err)
			}
		}
		// TCP on a port not configured is not handed over.
		tc, err := net.DialTimeout("tcp", net.JoinHostPort(podIPv4, "8080"), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = tc.Write(dnsQuery)
		_, _ = io.ReadFull(tc, buf[:len(dnsQuery)])
		_ = tc.Close()

		for _, w := range []struct {
			name     string
			src, dst netip.Addr
			port     func(*record.Record) uint16
			want     []byte
			len      uint32
		}{
			{"query", host4, pod4, func(r *record.Record) uint16 { return r.DstPort }, dnsQuery, uint32(len(dnsQuery))},
			{"response", pod4, host4, func(r *record.Record) uint16 { return r.SrcPort }, dnsQuery, uint32(len(dnsQuery))},
			{"large query", host4, pod4, func(r *record.Record) uint16 { return r.DstPort }, large[:SnippetMax], uint32(len(large))},
			{"large response", pod4, host4, func(r *record.Record) uint16 { return r.SrcPort }, large[:SnippetMax], uint32(len(large))},
		} {
			p.wait(t, w.name, func(c *parseCall) bool {
				return c.pkt.SrcAddr() == w.src && c.pkt.DstAddr() == w.dst && c.pkt.Proto == record.ProtoUDP &&
					w.port(&c.pkt) == 5353 && bytes.Equal(c.payload, w.want) && c.snippet.Len == w.len
			})
		}
		// The query's trace record is emitted, then the parser's L7 record.
		c.waitRecord(t, "l7 record", func(r *record.Record) bool { return r.Kind == record.KindL7 })
		c.mu.Lock()
		for i, r := range c.recs {
			if r.Kind == record.KindL7 && (i == 0 || c.recs[i-1].Kind != record.KindTrace || c.recs[i-1].DstPort != 5353) {
				t.Errorf("L7 record %d does not follow its packet's trace record", i)
			}
		}
		c.mu.Unlock()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, call := range p.calls {
			if call.pkt.Proto != record.ProtoUDP {
				t.Errorf("parser called for a packet on no configured port: %+v", call.pkt)
			}
		}
	})
	t.Run("tcp", func(t *testing.T) {
		p := &recordingParser{}
		c := startCapture(t, Config{Interfaces: []string{hostIf}, DNSPorts: []uint16{8080}}, WithL7Parser(p))
		c.waitHook(t, hostIf+":true", 5*time.Second)
		defer c.stop(t)

		msg := binary.BigEndian.AppendUint16(nil, uint16(len(dnsQuery)))
		msg = append(msg, dnsQuery...)
		tc, err := net.DialTimeout("tcp", net.JoinHostPort(podIPv4, "8080"), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		_ = tc.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := tc.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(tc, make([]byte, len(msg))); err != nil {
			t.Fatal(err)
		}
		q := p.wait(t, "tcp query", func(c *parseCall) bool {
			return c.pkt.SrcAddr() == host4 && c.pkt.DstPort == 8080 && c.pkt.Proto == record.ProtoTCP && bytes.Equal(c.payload, msg)
		})
		// The segment follows the SYN: its sequence number is the
		// connection's initial one plus one, which the kernel chose.
		if q.snippet.Len != uint32(len(msg)) || q.snippet.Seq == 0 {
			t.Errorf("tcp query snippet: length %d sequence %d, want %d and the segment's", q.snippet.Len, q.snippet.Seq, len(msg))
		}
		p.wait(t, "tcp response", func(c *parseCall) bool {
			return c.pkt.SrcAddr() == pod4 && c.pkt.SrcPort == 8080 && bytes.Equal(c.payload, msg)
		})
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, call := range p.calls {
			if len(call.payload) == 0 {
				t.Errorf("parser called without payload: %+v", call.pkt)
			}
		}
	})
}

// testHTTPSnippets checks that an HTTP request a pod's echo server answers
// reaches the parser both ways with its sequence number and length at the
// pod's interface, and not at all when the interface is fixed as facing
// the network.
func testHTTPSnippets(t *testing.T) {
	req := []byte("GET /x HTTP/1.1\r\nHost: pod\r\n\r\n")
	for _, c := range []struct {
		name, iface string
		want        bool
	}{{"pod's interface", hostIf, true}, {"network role", hostIf + "=network", false}} {
		t.Run(c.name, func(t *testing.T) {
			p := &recordingParser{}
			cp := startCapture(t, Config{Interfaces: []string{c.iface}, HTTPRate: 100}, WithL7Parser(p))
			cp.waitHook(t, hostIf+":true", 5*time.Second)
			defer cp.stop(t)
			tc, err := net.DialTimeout("tcp", net.JoinHostPort(podIPv4, "8080"), 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer tc.Close()
			_ = tc.SetDeadline(time.Now().Add(2 * time.Second))
			if _, err := tc.Write(req); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(tc, make([]byte, len(req))); err != nil {
				t.Fatal(err)
			}
			if c.want {
				for _, dir := range []string{"request", "echo"} {
					p.wait(t, dir, func(call *parseCall) bool {
						return (call.pkt.DstPort == 8080) == (dir == "request") && bytes.Equal(call.payload, req) &&
							call.snippet.Len == uint32(len(req)) && call.snippet.Seq != 0 && call.snippet.Ack != 0
					})
				}
				return
			}
			// The segment's report (its first PSH is news) carries no
			// snippet.
			cp.waitRecord(t, "request", func(r *record.Record) bool { return r.DstPort == 8080 && r.TCPFlags&record.TCPPsh != 0 })
			p.mu.Lock()
			defer p.mu.Unlock()
			if len(p.calls) != 0 {
				t.Fatalf("%d parse calls off a pod's interface", len(p.calls))
			}
		})
	}
}

// TestProgramSnippets drives packets through the program with
// BPF_PROG_TEST_RUN: payload on a snippet port travels with the event,
// exact and at most SnippetMax bytes; other ports and empty payloads get a
// plain event; without a parser nothing carries payload.
func TestProgramSnippets(t *testing.T) {
	withParser := newTestSource(t, Config{DNSPorts: []uint16{53, 5353}}, WithL7Parser(discardParser{}))
	without := newTestSource(t, Config{})
	large := bytes.Repeat([]byte{0x5a}, SnippetMax+1)
	tcpDNS := append(tcpSegment(40000, 53, record.TCPAck|record.TCPPsh), dnsQuery...)
	// A TCP header claiming 60 bytes in a segment with 25: no payload.
	longHdr := append(tcpSegment(40000, 53, record.TCPAck|record.TCPPsh), 1, 2, 3, 4, 5)
	longHdr[12] = 15 << 4
	for _, c := range []struct {
		name  string
		src   *Source
		frame []byte
		want  []byte // nil: no snippet
	}{
		{"udp4 query", withParser, ethFrame(0x0800, ipv4Packet("10.0.0.1", "10.0.0.2", 17, append(udpDatagram(40000, 53), dnsQuery...))), dnsQuery},
		{"udp4 response", withParser, ethFrame(0x0800, ipv4Packet("10.0.0.2", "10.0.0.1", 17, append(udpDatagram(5353, 40000), dnsQuery...))), dnsQuery},
		{"udp6 query", withParser, ethFrame(0x86dd, ipv6Packet("fd00::1", "fd00::2", 17, append(udpDatagram(40000, 53), dnsQuery...))), dnsQuery},
		{"tcp4 query", withParser, ethFrame(0x0800, ipv4Packet("10.0.0.1", "10.0.0.2", 6, tcpDNS)), dnsQuery},
		{"truncated to SnippetMax", withParser, ethFrame(0x0800, ipv4Packet("10.0.0.1", "10.0.0.2", 17, append(udpDatagram(40000, 53), large...))), large[:SnippetMax]},
		{"other port", withParser, ethFrame(0x0800, ipv4Packet("10.0.0.1", "10.0.0.2", 17, append(udpDatagram(40000, 54), dnsQuery...))), nil},
		{"no payload", withParser, ethFrame(0x0800, ipv4Packet("10.0.0.1", "10.0.0.2", 6, tcpSegment(40000, 53, record.TCPSyn))), nil},
		{"tcp header past the end", withParser, ethFrame(0x0800, ipv4Packet("10.0.0.1", "10.0.0.2", 6, longHdr)), nil},
		{"no parser", without, ethFrame(0x0800, ipv4Packet("10.0.0.1", "10.0.0.2", 17, append(udpDatagram(40000, 53), dnsQuery...))), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			runProg(t, c.src.objs.CaptureIngress, c.frame)
			evs := drainEvents(t, c.src)
			if len(evs) != 1 {
				t.Fatalf("%d events, want 1", len(evs))
			}
			ev := evs[0]
			if c.want == nil {
				if ev.Kind != KindPacket || ev.Payload != nil {
					t.Fatalf("kind %v payload %x, want a plain packet event", ev.Kind, ev.Payload)
				}
				return
			}
			if ev.Kind != KindSnippet || !bytes.Equal(ev.Payload, c.want) {
				t.Fatalf("kind %v payload %x, want a snippet of %x", ev.Kind, ev.Payload, c.want)
			}
		})
	}
}
