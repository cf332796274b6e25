//go:build linux

package bpf

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	netbpf "golang.org/x/net/bpf"
)

// BenchmarkPacketSocket measures what a packet capture costs the traffic
// of the veth it listens on: each iteration runs one trial without and one
// with a PacketSocket on a's end (order alternating), read as the agent's
// capture readers read, and the metrics compare totals over the run. With
// "filtered-out" the socket's filter (ICMP only) rejects the trial's
// packets, the cost of a capture to traffic its filter does not select;
// with "captured" it keeps every packet whole (snap length 262144). It also
// reports the packets the socket delivered per second and the share the
// kernel dropped for want of buffer (4 MiB, the agent's).
func BenchmarkPacketSocket(b *testing.B) {
	p := newBenchPair(b, "")
	accept, err := netbpf.Assemble([]netbpf.Instruction{netbpf.RetConstant{Val: 262144}})
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []struct {
		name   string
		filter []netbpf.RawInstruction
	}{{"filtered-out", icmpFilter(b, 262144)}, {"captured", accept}} {
		b.Run(f.name+"/udp64", func(b *testing.B) { p.compareSocket(b, f.filter, "pkt/s", p.udpTrial) })
		b.Run(f.name+"/tcp-stream", func(b *testing.B) { p.compareSocket(b, f.filter, "MB/s", p.tcpTrial) })
	}
}

// compareSocket runs trial without and with a packet socket running
// filter on a's end once per iteration and reports both rates, their ratio
// and what the socket delivered and dropped.
func (p *benchPair) compareSocket(b *testing.B, filter []netbpf.RawInstruction, unit string, trial func(*testing.B) float64) {
	var off, on, delivered, drops, received float64
	i := 0
	for b.Loop() {
		socketFirst := i%2 == 1
		for _, withSocket := range []bool{socketFirst, !socketFirst} {
			if !withSocket {
				off += trial(b)
				continue
			}
			var s *PacketSocket
			inNS(b, p.nsA, func() {
				ifc, err := net.InterfaceByName(benchIfA)
				if err != nil {
					b.Fatalf("interface %s: %v", benchIfA, err)
				}
				if s, err = OpenPacketSocket(ifc.Index, filter, 4<<20, 100*time.Millisecond); err != nil {
					b.Fatal(err)
				}
			})
			var read atomic.Uint64
			var stop atomic.Bool
			var wg sync.WaitGroup
			wg.Go(func() {
				buf := make([]byte, 262144)
				for !stop.Load() {
					if _, err := s.Read(buf); err == nil {
						read.Add(1)
					} else if !errors.Is(err, ErrNoPacket) {
						return
					}
				}
			})
			start := time.Now()
			on += trial(b)
			elapsed := time.Since(start)
			stop.Store(true)
			wg.Wait()
			pkts, dropped, err := s.Stats()
			if err != nil {
				b.Fatal(err)
			}
			_ = s.Close()
			delivered += float64(read.Load()) / elapsed.Seconds()
			drops += float64(dropped)
			received += float64(pkts)
		}
		i++
	}
	n := float64(b.N)
	b.ReportMetric(off/n, unit+"-without")
	b.ReportMetric(on/n, unit+"-with")
	b.ReportMetric(on/off, "ratio")
	b.ReportMetric(delivered/n, "read-pkt/s")
	if received > 0 {
		b.ReportMetric(drops/received, "dropped/received")
	}
}
