//go:build linux

package bpf

import (
	"testing"
	"time"

	"github.com/foveanet/fovea/model/record"
)

// handshakeEvent runs frame through prog and returns its one event.
func handshakeEvent(t *testing.T, s *Source, egress bool, frame []byte) KernelEvent {
	t.Helper()
	prog := s.objs.CaptureIngress
	if egress {
		prog = s.objs.CaptureEgress
	}
	runProg(t, prog, frame)
	evs := drainEvents(t, s)
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	return evs[0]
}

func TestProgramTimesHandshakes(t *testing.T) {
	for _, agg := range []Aggregation{AggregationConnection, AggregationNone} {
		t.Run(agg.String(), func(t *testing.T) {
			s := newTestSource(t, Config{Aggregation: agg})
			const synAck = record.TCPSyn | record.TCPAck
			syn := tcp4("10.26.0.1", "10.26.0.2", 42000, 443, record.TCPSyn)
			answer := tcp4("10.26.0.2", "10.26.0.1", 443, 42000, synAck)

			// The SYN leaves, the SYN-ACK arrives a few milliseconds later:
			// the latency is the difference of the two reports' times.
			sent := handshakeEvent(t, s, true, syn)
			if sent.Handshake != 0 {
				t.Errorf("SYN carries a handshake of %v", sent.Handshake)
			}
			time.Sleep(3 * time.Millisecond)
			got := handshakeEvent(t, s, false, answer)
			between := time.Duration(got.BootNs - sent.BootNs)
			if got.Handshake < 3*time.Millisecond || got.Handshake > between+time.Microsecond || got.Handshake < between-time.Microsecond {
				t.Errorf("handshake %v, want the %v between the reports, at least 3ms", got.Handshake, between)
			}
			if got.Packets != 1 || !got.Reply {
				t.Errorf("SYN-ACK stands for %d packets, reply %v; want 1, a reply", got.Packets, got.Reply)
			}

			// Each observation of the SYN-ACK measures from the latest SYN.
			if again := handshakeEvent(t, s, true, answer); again.Handshake < got.Handshake {
				t.Errorf("SYN-ACK seen again: handshake %v, want at least %v", again.Handshake, got.Handshake)
			}

			// A retransmitted SYN restarts the measure: the SYN-ACK answers it.
			time.Sleep(50 * time.Millisecond)
			handshakeEvent(t, s, true, syn)
			if got := handshakeEvent(t, s, false, answer); got.Handshake <= 0 || got.Handshake >= 50*time.Millisecond {
				t.Errorf("after a retransmitted SYN: handshake %v, want under 50ms", got.Handshake)
			}

			// A SYN-ACK whose SYN the program did not see has no latency.
			if got := handshakeEvent(t, s, false, tcp4("10.26.1.2", "10.26.1.1", 443, 42001, synAck)); got.Handshake != 0 || got.Packets != 1 {
				t.Errorf("SYN-ACK without a SYN: handshake %v, %d packets; want 0, 1", got.Handshake, got.Packets)
			}
			// Nor does a SYN-ACK from the end that sent the SYN.
			handshakeEvent(t, s, true, tcp4("10.26.2.1", "10.26.2.2", 42002, 443, record.TCPSyn))
			if got := handshakeEvent(t, s, false, tcp4("10.26.2.1", "10.26.2.2", 42002, 443, synAck)); got.Handshake != 0 {
				t.Errorf("SYN-ACK from the SYN's sender: handshake %v, want 0", got.Handshake)
			}
		})
	}
}
