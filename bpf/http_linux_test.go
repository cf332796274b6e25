//go:build linux

package bpf

import (
	"bytes"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/foveanet/fovea/model/record"
)

// testRunIfindex is the interface BPF_PROG_TEST_RUN runs a tc program on:
// the namespace's loopback device.
const testRunIfindex = 1

// newHTTPTestSource returns a source whose programs send HTTP snippets at
// rate, with the interface test runs use gated as a pod's if pod.
func newHTTPTestSource(t testing.TB, cfg Config, pod bool) *Source {
	s := newTestSource(t, cfg, WithL7Parser(discardParser{}))
	s.gateHTTP(testRunIfindex, pod)
	return s
}

// TestProgramHTTPSnippets drives TCP segments through the program: a
// payload starting an HTTP/1.x request or response, or the HTTP/2
// preface, travels with its event on any port; anything else, a SYN, a
// payload under eight bytes, a source without HTTPRate and an interface
// that is no pod's carry none.
func TestProgramHTTPSnippets(t *testing.T) {
	withHTTP := newHTTPTestSource(t, Config{HTTPRate: 1 << 20}, true)
	without := newHTTPTestSource(t, Config{}, true)
	uplink := newHTTPTestSource(t, Config{HTTPRate: 1 << 20}, false)
	// Each case on a connection of its own, whose first packet is news.
	sport := uint16(40000)
	seg := func(flags uint16, payload string) []byte {
		sport++
		return ethFrame(0x0800, ipv4Packet("10.0.0.1", "10.0.0.2", 6, append(tcpSegment(sport, 8080, flags), payload...)))
	}
	const psh = record.TCPAck | record.TCPPsh
	for _, c := range []struct {
		name    string
		src     *Source
		frame   []byte
		snippet bool
	}{
		{"GET", withHTTP, seg(psh, "GET / HTTP/1.1\r\n\r\n"), true},
		{"PUT", withHTTP, seg(psh, "PUT /x HTTP/1.1\r\n"), true},
		{"POST", withHTTP, seg(psh, "POST /x HTTP/1.1\r\n"), true},
		{"HEAD", withHTTP, seg(psh, "HEAD /x HTTP/1.1\r\n"), true},
		{"PATCH", withHTTP, seg(psh, "PATCH /x HTTP/1.1\r\n"), true},
		{"TRACE", withHTTP, seg(psh, "TRACE /x HTTP/1.1\r\n"), true},
		{"DELETE", withHTTP, seg(psh, "DELETE /x HTTP/1.1\r\n"), true},
		{"OPTIONS", withHTTP, seg(psh, "OPTIONS * HTTP/1.1\r\n"), true},
		{"CONNECT", withHTTP, seg(psh, "CONNECT a:443 HTTP/1.1\r\n"), true},
		{"response", withHTTP, seg(psh, "HTTP/1.1 200 OK\r\n"), true},
		{"HTTP/2 preface", withHTTP, seg(psh, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), true},
		{"lower case", withHTTP, seg(psh, "get / HTTP/1.1\r\n"), false},
		{"POSTX", withHTTP, seg(psh, "POSTX / HTTP/1.1\r\n"), false},
		{"HTTP/2 response", withHTTP, seg(psh, "HTTP/2 200\r\n"), false},
		{"TLS record", withHTTP, seg(psh, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc"), false},
		{"short", withHTTP, seg(psh, "GET /"), false},
		{"SYN with data", withHTTP, seg(record.TCPSyn, "GET / HTTP/1.1\r\n"), false},
		{"no payload", withHTTP, seg(record.TCPAck, ""), false},
		{"HTTP off", without, seg(psh, "GET / HTTP/1.1\r\n"), false},
		{"not a pod's interface", uplink, seg(psh, "GET / HTTP/1.1\r\n"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			runProg(t, c.src.objs.CaptureIngress, c.frame)
			evs := drainEvents(t, c.src)
			if len(evs) != 1 {
				t.Fatalf("%d events, want 1", len(evs))
			}
			if got := evs[0].Kind == KindSnippet; got != c.snippet {
				t.Fatalf("kind %v payload %q, want snippet %v", evs[0].Kind, evs[0].Payload, c.snippet)
			}
			if evs[0].Ifindex != testRunIfindex {
				t.Fatalf("test run on ifindex %d, want %d", evs[0].Ifindex, testRunIfindex)
			}
			if c.snippet && !bytes.Contains(c.frame, evs[0].Payload) {
				t.Fatalf("payload %q is not the segment's", evs[0].Payload)
			}
		})
	}
}

// TestProgramHTTPRateLimit checks that a CPU sends at most HTTPRate HTTP
// snippets a second and counts the rest: the segments are still reported,
// without payload.
func TestProgramHTTPRateLimit(t *testing.T) {
	// One CPU, so one window and one counter slot take every run.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var set unix.CPUSet
	set.Set(0)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		t.Fatalf("pin to CPU 0: %v", err)
	}
	s := newHTTPTestSource(t, Config{HTTPRate: 1, Aggregation: AggregationNone}, true)
	frame := ethFrame(0x0800, ipv4Packet("10.0.0.1", "10.0.0.2", 6,
		append(tcpSegment(40000, 8080, record.TCPAck|record.TCPPsh), "GET / HTTP/1.1\r\n\r\n"...)))
	const runs = 5
	for range runs {
		runProg(t, s.objs.CaptureIngress, frame)
	}
	snippets := 0
	for _, ev := range drainEvents(t, s) {
		if ev.Kind == KindSnippet {
			snippets++
		}
	}
	refused, err := perCPUSum(s.objs.HttpRefused)
	if err != nil {
		t.Fatal(err)
	}
	// Five runs take far less than a second: at most one new window.
	if snippets < 1 || snippets > 2 || int(refused) != runs-snippets {
		t.Fatalf("%d snippets and %d refused of %d, want 1 or 2 sent and the rest refused", snippets, refused, runs)
	}
}
