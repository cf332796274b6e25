//go:build linux

package bpf

import (
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/ringbuf"

	"github.com/foveanet/fovea/model/record"
)

// discardParser accepts snippets and produces nothing.
type discardParser struct{}

func (discardParser) Parse(*record.Record, Snippet, func(*record.Record)) {}

// BenchmarkProgram measures the kernel-side cost per packet with
// BPF_PROG_TEST_RUN repeat, for an empty tc program and for the capture
// program on a few packet shapes, aggregated (the default: the repeated
// packet is counted into its connection's entry) and reporting every
// packet. The ns/pkt metric is the kernel's own average over the repeats;
// the ring is drained between runs (untimed) so every reported packet
// takes the full path including the ring write.
func BenchmarkProgram(b *testing.B) {
	// With a parser, port 53 is a snippet port as in an agent.
	// HTTP on, as the agent runs, with a limit no run reaches.
	s := newHTTPTestSource(b, Config{HTTPRate: 1 << 24}, true)
	every := newHTTPTestSource(b, Config{Aggregation: AggregationNone, HTTPRate: 1 << 24}, true)
	empty, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.SchedCLS,
		License:      "MIT",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.Return()},
	})
	if err != nil {
		b.Fatalf("load empty program: %v", err)
	}
	defer empty.Close()
	rds := make(map[*ebpf.Program]*ringbuf.Reader)
	for _, src := range []*Source{s, every} {
		rd, err := ringbuf.NewReader(src.objs.Events)
		if err != nil {
			b.Fatalf("ringbuf.NewReader: %v", err)
		}
		defer rd.Close()
		rds[src.objs.CaptureIngress] = rd
		rds[src.objs.CaptureEgress] = rd
	}

	tcp4 := ethFrame(0x0800, ipv4Packet("10.0.0.1", "10.0.0.2", 6, tcpSegment(40000, 80, record.TCPAck|record.TCPPsh)))
	udp6ext := ethFrame(0x86dd, ipv6Packet("fd00::1", "fd00::2", 0, ipv6Ext(60, ipv6Ext(17, udpDatagram(4000, 5000)))))
	arp := ethFrame(0x0806, make([]byte, 28))
	dns4 := ethFrame(0x0800, ipv4Packet("10.0.0.1", "10.0.0.2", 17, append(udpDatagram(40000, 53), dnsQuery...)))
	// The same inner TCP segment in flannel's VXLAN and in Geneve: the
	// decapsulation's cost is the difference to tcp4.
	vxlan4 := ethFrame(0x0800, ipv4Packet("172.30.0.1", "172.30.0.2", 17,
		udpWith(51000, 8472, vxlanHeader(1, 0x08), tcp4)))
	geneve4 := ethFrame(0x0800, ipv4Packet("172.30.0.1", "172.30.0.2", 17,
		udpWith(51000, 6081, geneveHeader(0, 2, 0x6558, 1), tcp4)))
	udp4 := ethFrame(0x0800, ipv4Packet("10.0.0.1", "10.0.0.2", 17, udpDatagram(40000, 5000)))
	udp6 := ethFrame(0x86dd, ipv6Packet("fd00::1", "fd00::2", 17, udpDatagram(40000, 5000)))
	// TCP payload: binary (what the HTTP test costs every other segment)
	// and an HTTP request (reported with its snippet).
	tcp4Data := ethFrame(0x0800, ipv4Packet("10.0.0.1", "10.0.0.2", 6,
		append(tcpSegment(40000, 80, record.TCPAck|record.TCPPsh), make([]byte, 64)...)))
	http4 := ethFrame(0x0800, ipv4Packet("10.0.0.1", "10.0.0.2", 6,
		append(tcpSegment(40002, 80, record.TCPAck|record.TCPPsh), "GET /api/v1/items HTTP/1.1\r\nHost: cart:80\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"...)))
	// A handshake's packets are always reported and update the connection
	// table; the SYN-ACK's connection has seen its SYN.
	syn4 := ethFrame(0x0800, ipv4Packet("10.0.0.3", "10.0.0.4", 6, tcpSegment(40001, 443, record.TCPSyn)))
	synAck4 := ethFrame(0x0800, ipv4Packet("10.0.0.4", "10.0.0.3", 6, tcpSegment(443, 40001, record.TCPSyn|record.TCPAck)))
	runProg(b, s.objs.CaptureEgress, syn4)
	for _, bc := range []struct {
		name  string
		prog  *ebpf.Program
		frame []byte
	}{
		{"empty/tcp4", empty, tcp4},
		{"capture/tcp4-aggregated", s.objs.CaptureIngress, tcp4},
		{"capture/udp6-ext-aggregated", s.objs.CaptureIngress, udp6ext},
		{"capture/tcp4-every-packet", every.objs.CaptureIngress, tcp4},
		// Egress reports also ask connection tracking whether the source
		// was translated (untranslate): here it finds no connection.
		{"capture-egress/tcp4-every-packet", every.objs.CaptureEgress, tcp4},
		{"capture/udp6-ext-every-packet", every.objs.CaptureIngress, udp6ext},
		{"capture/arp", s.objs.CaptureIngress, arp},
		{"capture/udp4-dns-snippet", s.objs.CaptureIngress, dns4},
		{"capture/udp4-aggregated", s.objs.CaptureIngress, udp4},
		{"capture/udp6-aggregated", s.objs.CaptureIngress, udp6},
		{"capture/tcp4-data-aggregated", s.objs.CaptureIngress, tcp4Data},
		{"capture/tcp4-http-request", s.objs.CaptureIngress, http4},
		{"capture/vxlan4-tcp4-aggregated", s.objs.CaptureIngress, vxlan4},
		{"capture/geneve4-tcp4-aggregated", s.objs.CaptureIngress, geneve4},
		{"capture/vxlan4-tcp4-every-packet", every.objs.CaptureIngress, vxlan4},
		{"capture-egress/tcp4-syn", s.objs.CaptureEgress, syn4},
		{"capture/tcp4-syn-ack", s.objs.CaptureIngress, synAck4},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const repeat = 10000
			var total time.Duration
			for b.Loop() {
				_, per, err := bc.prog.Benchmark(bc.frame, repeat, nil)
				if err != nil {
					b.Fatalf("BPF_PROG_TEST_RUN: %v", err)
				}
				total += per
				b.StopTimer()
				if rd := rds[bc.prog]; rd != nil {
					drainRing(b, rd)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/pkt")
		})
	}
}

func drainRing(b *testing.B, rd *ringbuf.Reader) {
	var rec ringbuf.Record
	for rd.AvailableBytes() > 0 {
		rd.SetDeadline(time.Now())
		if err := rd.ReadInto(&rec); err != nil {
			return
		}
	}
}
