//go:build linux

package bpf

import (
	"testing"
	"time"

	"github.com/foveanet/fovea/model/record"
)

// aggStep is one packet run through the ingress program and what the ring
// must then hold: no report (packets 0) or one standing for packets.
type aggStep struct {
	name    string
	frame   []byte
	packets uint32
}

func runAggSteps(t *testing.T, s *Source, steps []aggStep) {
	t.Helper()
	for _, st := range steps {
		runProg(t, s.objs.CaptureIngress, st.frame)
		evs := drainEvents(t, s)
		if st.packets == 0 {
			if len(evs) != 0 {
				t.Fatalf("%s: %d events, want the packet counted silently", st.name, len(evs))
			}
			continue
		}
		if len(evs) != 1 {
			t.Fatalf("%s: %d events, want 1", st.name, len(evs))
		}
		if ev := evs[0]; ev.Packets != st.packets || ev.Len != st.packets*uint32(len(st.frame)) || !ev.ReplyKnown {
			t.Fatalf("%s: report of %d packets, %d bytes, reply known %v; want %d packets, %d bytes, known",
				st.name, ev.Packets, ev.Len, ev.ReplyKnown, st.packets, st.packets*uint32(len(st.frame)))
		}
	}
}

func tcp4(src, dst string, sport, dport, flags uint16) []byte {
	return ethFrame(0x0800, ipv4Packet(src, dst, 6, tcpSegment(sport, dport, flags)))
}

func TestAggregationReportsNews(t *testing.T) {
	s := newTestSource(t, Config{})
	const ack, psh = record.TCPAck, record.TCPAck | record.TCPPsh
	c := func(flags uint16) []byte { return tcp4("10.20.0.1", "10.20.0.2", 41000, 80, flags) }
	srv := func(flags uint16) []byte { return tcp4("10.20.0.2", "10.20.0.1", 80, 41000, flags) }
	runAggSteps(t, s, []aggStep{
		{"syn", c(record.TCPSyn), 1},
		{"retransmitted syn", c(record.TCPSyn), 1},
		{"syn-ack: the other direction's first packet", srv(record.TCPSyn | ack), 1},
		{"ack: a new flag", c(ack), 1},
		{"ack 2", c(ack), 0},
		{"ack 3", c(ack), 0},
		{"ack 4", c(ack), 0},
		{"psh: a new flag, counting the absorbed", c(psh), 4},
		{"server ack: seen in its syn-ack", srv(ack), 0},
		{"server psh", srv(psh), 2},
		{"server psh 2", srv(psh), 0},
		{"psh 2", c(psh), 0},
		{"fin", c(record.TCPFin | ack), 2},
		{"fin again", c(record.TCPFin | ack), 1},
		{"server rst", srv(record.TCPRst), 2},
		// The ports are reused: the new connection's flags are news again.
		{"new syn", c(record.TCPSyn), 1},
		{"new ack", c(ack), 1},
	})
}

func TestAggregationInterval(t *testing.T) {
	s := newTestSource(t, Config{AggregationInterval: 100 * time.Millisecond})
	c := func(flags uint16) []byte { return tcp4("10.21.0.1", "10.21.0.2", 41000, 80, flags) }
	runAggSteps(t, s, []aggStep{
		{"ack", c(record.TCPAck), 1},
		{"ack 2", c(record.TCPAck), 0},
		{"ack 3", c(record.TCPAck), 0},
	})
	time.Sleep(150 * time.Millisecond)
	runAggSteps(t, s, []aggStep{
		{"ack after the interval", c(record.TCPAck), 3},
		{"ack 5", c(record.TCPAck), 0},
	})
}

func TestAggregationSampling(t *testing.T) {
	s := newTestSource(t, Config{SampleRate: 3})
	udp := ethFrame(0x0800, ipv4Packet("10.22.0.1", "10.22.0.2", 17, udpDatagram(5000, 6000)))
	runAggSteps(t, s, []aggStep{
		{"first", udp, 1},
		{"2", udp, 0}, {"3", udp, 0}, {"4: third absorbed", udp, 3},
		{"5", udp, 0}, {"6", udp, 0}, {"7", udp, 3},
	})
}

func TestAggregationNone(t *testing.T) {
	s := newTestSource(t, Config{Aggregation: AggregationNone})
	ack := tcp4("10.23.0.1", "10.23.0.2", 41000, 80, record.TCPAck)
	runAggSteps(t, s, []aggStep{{"1", ack, 1}, {"2", ack, 1}, {"3", ack, 1}})
}

func TestAggregationKeepsSnippets(t *testing.T) {
	s := newTestSource(t, Config{}, WithL7Parser(discardParser{}))
	q := ethFrame(0x0800, ipv4Packet("10.24.0.1", "10.24.0.2", 17, append(udpDatagram(40000, 53), dnsQuery...)))
	for i := range 3 {
		runProg(t, s.objs.CaptureIngress, q)
		evs := drainEvents(t, s)
		if len(evs) != 1 || evs[0].Kind != KindSnippet || evs[0].Packets != 1 {
			t.Fatalf("query %d: %+v, want one snippet of one packet", i, evs)
		}
	}
}

func TestAggregationConfig(t *testing.T) {
	if _, err := (Config{Aggregation: AggregationNone, SampleRate: 10}).withDefaults(); err == nil {
		t.Error("SampleRate with Aggregation none accepted")
	}
	if _, err := (Config{Aggregation: 7}).withDefaults(); err == nil {
		t.Error("unknown Aggregation accepted")
	}
	if _, err := (Config{AggregationInterval: -time.Second}).withDefaults(); err == nil {
		t.Error("negative AggregationInterval accepted")
	}
	for _, a := range []Aggregation{AggregationConnection, AggregationNone} {
		if got, err := ParseAggregation(a.String()); err != nil || got != a {
			t.Errorf("ParseAggregation(%q) = %v, %v", a, got, err)
		}
	}
	if _, err := ParseAggregation("flow"); err == nil {
		t.Error(`ParseAggregation("flow") accepted`)
	}
}

// A SYN-ACK's report carries its handshake latency instead of a count, so
// it stands for itself; what its entry absorbed goes into the next report.
func TestAggregationSynAckStandsAlone(t *testing.T) {
	s := newTestSource(t, Config{})
	const ack = record.TCPAck
	srv := func(flags uint16) []byte { return tcp4("10.25.0.2", "10.25.0.1", 80, 41000, flags) }
	runAggSteps(t, s, []aggStep{
		{"syn-ack", srv(record.TCPSyn | ack), 1},
		{"ack", srv(ack), 0},
		{"ack 2", srv(ack), 0},
		{"retransmitted syn-ack", srv(record.TCPSyn | ack), 1},
		{"psh: a new flag, counting the absorbed", srv(ack | record.TCPPsh), 3},
	})
}
