//go:build linux

package bpf

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/foveanet/fovea/test/cluster"
)

// benchPair is a veth pair between two fresh network namespaces, a → b,
// with the capture programs attachable to both ends (both directions), as
// the agent attaches to the host side of two pods' veths.
type benchPair struct {
	nsA, nsB string
	// dst is the address in b the traffic goes to; ends are the devices
	// the programs attach to; counted is the device whose ingress counts
	// the packets received.
	dst     string
	ends    []benchEnd
	counted benchEnd
	src     *Source
	// empty, attached instead of the capture programs, tells the cost of
	// the hook itself from the programs'.
	empty           *ebpf.Program
	ingress, egress *ebpf.Program
	links           []link.Link
	events          atomic.Uint64
	// bare is a twin of the pair the programs never attach to, for the
	// interleaved rows.
	bare *benchPair
}

// benchEnd is a device in a namespace.
type benchEnd struct{ ns, dev string }

const (
	benchIfA, benchIfB = "fbench0", "fbench1"
	benchIPA, benchIPB = "10.78.0.1", "10.78.0.2"
	benchTrial         = 500 * time.Millisecond
)

func newBenchPair(b *testing.B, tag string) *benchPair {
	requireRoot(b)
	p := &benchPair{
		nsA: fmt.Sprintf("fovea-bench-a%s-%d", tag, os.Getpid()),
		nsB: fmt.Sprintf("fovea-bench-b%s-%d", tag, os.Getpid()),
		dst: benchIPB,
	}
	p.ends = []benchEnd{{p.nsA, benchIfA}, {p.nsB, benchIfB}}
	p.counted = p.ends[1]
	for _, ns := range []string{p.nsA, p.nsB} {
		benchIP(b, "netns", "add", ns)
		b.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	benchIP(b, "-n", p.nsA, "link", "add", benchIfA, "type", "veth", "peer", "name", benchIfB, "netns", p.nsB)
	for _, c := range []struct{ ns, dev, ip string }{{p.nsA, benchIfA, benchIPA}, {p.nsB, benchIfB, benchIPB}} {
		benchIP(b, "-n", c.ns, "addr", "add", c.ip+"/24", "dev", c.dev)
		benchIP(b, "-n", c.ns, "link", "set", c.dev, "up")
	}
	return p
}

// load loads the programs the rows attach, and reads their ring.
func (p *benchPair) load(b *testing.B) {
	// HTTP on, as the agent runs it by default; no DNS ports, so the
	// programs differ from the agent's by DNS alone.
	p.src = newTestSource(b, Config{HTTPRate: 10000, DNSPorts: []uint16{}}, WithL7Parser(discardParser{}))
	empty, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.SchedCLS,
		License:      "MIT",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.Return()},
	})
	if err != nil {
		b.Fatalf("load empty program: %v", err)
	}
	b.Cleanup(func() { _ = empty.Close() })
	p.empty = empty
	rd, err := ringbuf.NewReader(p.src.objs.Events)
	if err != nil {
		b.Fatalf("ringbuf.NewReader: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var rec ringbuf.Record
		for {
			// The program wakes the reader only per WakeupBytes; poll as
			// the source does.
			rd.SetDeadline(time.Now().Add(DefaultFlushInterval))
			if err := rd.ReadInto(&rec); err != nil {
				if errors.Is(err, os.ErrClosed) {
					return
				}
				continue
			}
			p.events.Add(1)
		}
	}()
	b.Cleanup(func() {
		p.detach(b)
		_ = rd.Close()
		wg.Wait()
	})
}

func benchIP(b *testing.B, args ...string) {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		b.Fatalf("ip %v: %v\n%s", args, err, out)
	}
}

// inNS runs fn switched into namespace ns; sockets fn opens stay there.
func inNS(b *testing.B, ns string, fn func()) {
	if err := cluster.NewNetns(ns).Do(func() error { fn(); return nil }); err != nil {
		b.Fatal(err)
	}
}

func (p *benchPair) attach(b *testing.B) {
	for _, end := range p.ends {
		inNS(b, end.ns, func() {
			ifc, err := net.InterfaceByName(end.dev)
			if err != nil {
				b.Fatalf("interface %s: %v", end.dev, err)
			}
			for _, a := range []struct {
				prog *ebpf.Program
				at   ebpf.AttachType
			}{{p.ingress, ebpf.AttachTCXIngress}, {p.egress, ebpf.AttachTCXEgress}} {
				l, err := link.AttachTCX(link.TCXOptions{Interface: ifc.Index, Program: a.prog, Attach: a.at})
				if err != nil {
					b.Fatalf("attach tcx to %s: %v", end.dev, err)
				}
				p.links = append(p.links, l)
			}
		})
	}
}

func (p *benchPair) detach(b *testing.B) {
	for _, l := range p.links {
		if err := l.Close(); err != nil {
			b.Errorf("detach: %v", err)
		}
	}
	p.links = nil
}

// ingressPackets is what the counters saw arrive at the counted device.
func (p *benchPair) ingressPackets(b *testing.B) uint64 {
	var idx int
	inNS(b, p.counted.ns, func() {
		ifc, err := net.InterfaceByName(p.counted.dev)
		if err != nil {
			b.Fatalf("interface %s: %v", p.counted.dev, err)
		}
		idx = ifc.Index
	})
	var perCPU []captureFwdVal
	if err := p.src.objs.ForwardSlots.Lookup(fwdSlot(uint32(idx), Ingress), &perCPU); err != nil {
		b.Fatalf("look up forward_slots: %v", err)
	}
	return sumForward(counted{name: p.counted.dev}, Ingress, perCPU).Packets
}

// BenchmarkDatapath measures what the capture programs cost the traffic
// they watch: each iteration runs one trial without and one with the
// programs attached (order alternating), benchTrial each, and the metrics
// compare them. The udp64-interleaved rows send to an attached pair and a
// bare twin by turns within each trial instead, which resolves a point
// where single trials move by fifteen. It also reports events per packet on the TCP stream, with
// aggregation on, and what a program run costs on the live path (the
// kernel's BPF statistics over UDP trials): beside BenchmarkProgram's
// figure for one packet in a loop, it holds the cache misses of a packet
// crossing the whole stack between two runs.
func BenchmarkDatapath(b *testing.B) {
	runDatapath(b, newBenchPair)
}

// runDatapath builds the topology twice, one to attach to and a bare twin,
// and runs the rows of BenchmarkDatapath over them.
func runDatapath(b *testing.B, build func(b *testing.B, tag string) *benchPair) {
	p := build(b, "")
	p.bare = build(b, "-bare")
	p.load(b)
	p.run(b)
}

// run has the rows of BenchmarkDatapath: UDP and TCP trials with the
// capture programs and with an empty program.
func (p *benchPair) run(b *testing.B) {
	for _, progs := range []struct {
		name            string
		ingress, egress *ebpf.Program
	}{
		{"capture", p.src.objs.CaptureIngress, p.src.objs.CaptureEgress},
		{"empty-prog", p.empty, p.empty},
	} {
		p.ingress, p.egress = progs.ingress, progs.egress
		b.Run(progs.name+"/udp64", func(b *testing.B) { p.compare(b, "pkt/s", p.udpTrial) })
		b.Run(progs.name+"/udp64-interleaved", p.compareInterleaved)
		b.Run(progs.name+"/tcp-stream", func(b *testing.B) {
			pkts0, ev0 := p.ingressPackets(b), p.events.Load()
			p.compare(b, "MB/s", p.tcpTrial)
			time.Sleep(2 * DefaultFlushInterval) // the reader's last poll
			pkts, ev := p.ingressPackets(b)-pkts0, p.events.Load()-ev0
			if pkts > 0 {
				b.ReportMetric(float64(pkts)/float64(b.N), "skbs/trial")
				b.ReportMetric(float64(ev)/float64(pkts), "events/pkt")
			}
		})
	}
	b.Run("capture/udp64-live", p.liveRunCost)
}

// liveRunCost runs UDP trials with the capture programs attached and the
// kernel's run-time statistics on, and reports the programs' mean time per
// run. The statistics cost each run two clock reads, part of which the
// figure holds, so it stays out of the throughput rows.
func (p *benchPair) liveRunCost(b *testing.B) {
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		b.Skipf("enable BPF statistics: %v", err)
	}
	defer stats.Close()
	progs := []*ebpf.Program{p.src.objs.CaptureIngress, p.src.objs.CaptureEgress}
	runs := func() (n uint64, t time.Duration) {
		for _, prog := range progs {
			st, err := prog.Stats()
			if err != nil {
				b.Fatalf("program statistics: %v", err)
			}
			n, t = n+st.RunCount, t+st.Runtime
		}
		return n, t
	}
	p.ingress, p.egress = progs[0], progs[1]
	n0, t0 := runs()
	p.attach(b)
	for b.Loop() {
		p.udpTrial(b)
	}
	p.detach(b)
	n, t := runs()
	if n > n0 {
		b.ReportMetric(float64(t-t0)/float64(n-n0), "ns/run")
		b.ReportMetric(float64(n-n0)/float64(b.N), "runs/trial")
	}
}

// compare runs trial detached and attached once per iteration and reports
// both mean rates and the median of the iterations' ratios: each ratio
// compares two trials a second apart, and the median keeps a burst of the
// host's own load in one trial from moving the result.
func (p *benchPair) compare(b *testing.B, unit string, trial func(*testing.B) float64) {
	var off, on float64
	var ratios []float64
	i := 0
	for b.Loop() {
		attachedFirst := i%2 == 1
		var r [2]float64
		for _, attached := range []bool{attachedFirst, !attachedFirst} {
			if attached {
				p.attach(b)
				r[1] = trial(b)
				p.detach(b)
			} else {
				r[0] = trial(b)
			}
		}
		off += r[0]
		on += r[1]
		ratios = append(ratios, r[1]/r[0])
		i++
	}
	reportComparison(b, unit, off, on, ratios)
}

// reportComparison reports the mean rates detached and attached, summed
// over the iterations, and the median of the iterations' ratios.
func reportComparison(b *testing.B, unit string, off, on float64, ratios []float64) {
	n := float64(b.N)
	b.ReportMetric(off/n, unit+"-detached")
	b.ReportMetric(on/n, unit+"-attached")
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "ratio")
}

// compareInterleaved runs one interleaved trial (udpInterleaved) per
// iteration with the programs attached to the pair and not to its twin,
// and reports both mean rates and the median of the iterations' ratios.
// Where compare's two trials are a second apart, these two rates share
// every moment of the trial, so the host's own load, which moves single
// trials on a shared VM by ±15 %, falls on both alike.
func (p *benchPair) compareInterleaved(b *testing.B) {
	var off, on float64
	var ratios []float64
	p.attach(b)
	defer p.detach(b)
	for b.Loop() {
		r1, r0 := p.udpInterleaved(b)
		off += r0
		on += r1
		ratios = append(ratios, r1/r0)
	}
	reportComparison(b, "pkt/s", off, on, ratios)
}

// udpTrial sends 64-byte frames (22 bytes of UDP payload) from a to b as
// fast as one sender can and returns the rate b received them at.
func (p *benchPair) udpTrial(b *testing.B) float64 {
	sendCPU, recvCPU := trialCPUs(b)
	f := p.openUDP(b, recvCPU)
	var elapsed time.Duration
	onCPUWhile(b, sendCPU, func() {
		start := time.Now()
		for time.Since(start) < benchTrial {
			f.send(64)
		}
		elapsed = time.Since(start)
	})
	return float64(f.close()) / elapsed.Seconds()
}

// udpInterleaved sends 64-byte frames as udpTrial does, from one thread to
// the pair and to its bare twin by turns, 64 at a time, and returns the
// rate each received them at over the time spent sending to it. A veth
// hands a packet on through every hop before the send returns, so each
// turn's time holds its packets' whole path.
func (p *benchPair) udpInterleaved(b *testing.B) (attached, bare float64) {
	sendCPU, recvCPU := trialCPUs(b)
	flows := [2]*udpFlow{p.bare.openUDP(b, recvCPU), p.openUDP(b, recvCPU)}
	var spent [2]time.Duration
	onCPUWhile(b, sendCPU, func() {
		start := time.Now()
		for turn := 0; time.Since(start) < benchTrial; turn++ {
			for i := range flows {
				f := flows[(i+turn)%2] // neither always goes first
				t0 := time.Now()
				f.send(64)
				spent[(i+turn)%2] += time.Since(t0)
			}
		}
	})
	return float64(flows[1].close()) / spent[1].Seconds(), float64(flows[0].close()) / spent[0].Seconds()
}

// udpFlow is a trial's UDP socket pair across a benchPair, its receiver
// counting what arrives.
type udpFlow struct {
	tx, rx   net.Conn
	payload  []byte
	received atomic.Uint64
	done     chan struct{}
}

// openUDP opens a flow from a to b, its receiver on recvCPU.
func (p *benchPair) openUDP(b *testing.B, recvCPU int) *udpFlow {
	f := &udpFlow{payload: make([]byte, 64-14-20-8), done: make(chan struct{})}
	var err error
	inNS(b, p.nsB, func() {
		var pc net.PacketConn
		pc, err = net.ListenPacket("udp4", net.JoinHostPort(p.dst, "9000"))
		if err == nil {
			f.rx = pc.(*net.UDPConn)
			// Past net.core.rmem_max (SO_RCVBUFFORCE, as root): 20 ms
			// of the sender's rate, so a pause of the receiver loses
			// nothing.
			if rc, err := pc.(*net.UDPConn).SyscallConn(); err == nil {
				_ = rc.Control(func(fd uintptr) {
					_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 32<<20)
				})
			}
		}
	})
	if err != nil {
		b.Fatalf("listen: %v", err)
	}
	inNS(b, p.nsA, func() { f.tx, err = net.Dial("udp4", net.JoinHostPort(p.dst, "9000")) })
	if err != nil {
		_ = f.rx.Close()
		b.Fatalf("dial: %v", err)
	}
	// The sender and the receiver hold a CPU each, so that the rate is
	// the sender's CPU's, which also runs every hop's programs (a veth
	// hands its packet on on the sending CPU), and the scheduler moving
	// or stacking the two threads moves no trial.
	go func() {
		defer close(f.done)
		onCPUWhile(b, recvCPU, func() {
			buf := make([]byte, 64)
			for {
				if _, err := f.rx.Read(buf); err != nil {
					return
				}
				f.received.Add(1)
			}
		})
	}()
	return f
}

// send sends n frames.
func (f *udpFlow) send(n int) {
	for range n {
		_, _ = f.tx.Write(f.payload) // a full socket buffer is the receiver's loss
	}
}

// close lets the receiver drain what is queued, closes the flow and
// returns what it received.
func (f *udpFlow) close() uint64 {
	time.Sleep(10 * time.Millisecond)
	n := f.received.Load()
	_ = f.rx.Close()
	<-f.done
	_ = f.tx.Close()
	return n
}

// trialCPUs returns the first two CPUs the benchmark may run on, the
// same one twice on a machine of one.
func trialCPUs(b *testing.B) (int, int) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		b.Fatalf("read CPU affinity: %v", err)
	}
	var cpus []int
	for cpu := 0; len(cpus) < 2 && cpu < runtime.NumCPU()*8; cpu++ {
		if set.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	if len(cpus) == 0 {
		b.Fatal("no CPU in the affinity set")
	}
	return cpus[0], cpus[len(cpus)-1]
}

// tcpTrial streams from a to b for benchTrial and returns MB/s received.
func (p *benchPair) tcpTrial(b *testing.B) float64 {
	var (
		ln  net.Listener
		c   net.Conn
		err error
	)
	inNS(b, p.nsB, func() { ln, err = net.Listen("tcp4", net.JoinHostPort(p.dst, "9001")) })
	if err != nil {
		b.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	inNS(b, p.nsA, func() { c, err = net.Dial("tcp4", net.JoinHostPort(p.dst, "9001")) })
	if err != nil {
		b.Fatalf("dial: %v", err)
	}
	srv, err := ln.Accept()
	if err != nil {
		b.Fatalf("accept: %v", err)
	}
	var received atomic.Uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		n, _ := io.Copy(io.Discard, srv)
		received.Store(uint64(n))
	}()
	chunk := make([]byte, 256<<10)
	start := time.Now()
	for time.Since(start) < benchTrial {
		if _, err := c.Write(chunk); err != nil {
			b.Fatalf("write: %v", err)
		}
	}
	_ = c.Close()
	<-done
	elapsed := time.Since(start)
	_ = srv.Close()
	return float64(received.Load()) / elapsed.Seconds() / 1e6
}
