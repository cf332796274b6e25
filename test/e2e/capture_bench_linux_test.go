//go:build linux

package e2e

import (
	"context"
	"net"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/foveanet/fovea/test/traffic"
)

// captureStarts is how many captures BenchmarkCaptureStart times.
const captureStarts = 20

// BenchmarkCaptureStart times `fovea capture start`, through the relay,
// from the command's start to the first packet in its output file, while
// the two frontends (one a node) ping every 5 ms; it reports the median
// and the 99th percentile (nearest rank: the slowest of 20) of
// captureStarts starts.
func BenchmarkCaptureStart(b *testing.B) {
	ce := setupCapture(b)
	front0, _ := ce.host(b, "frontend", 0)
	front1, _ := ce.host(b, "frontend", 1)
	back0, _ := ce.host(b, "backend", 0)
	back1, _ := ce.host(b, "backend", 1)
	stop := background(func(ctx context.Context) {
		_, _ = traffic.ICMP(ctx, front0, back1, traffic.IPv4, 1)
		_, _ = traffic.ICMP(ctx, front1, back0, traffic.IPv4, 1)
		time.Sleep(5 * time.Millisecond)
	})
	defer stop()
	var lat []time.Duration
	for b.Loop() {
		lat = lat[:0]
		for range captureStarts {
			run := ce.startCapture(b, "-n", "demo", "-l", "app=frontend", "--duration", "30s", "-q")
			deadline := time.Now().Add(10 * time.Second)
			for !firstPacket(run.out) {
				if time.Now().After(deadline) {
					b.Fatalf("no packet on disk after 10s:\n%s", run.stderr.String())
				}
				time.Sleep(2 * time.Millisecond)
			}
			lat = append(lat, time.Since(run.began))
			_ = run.cmd.Process.Signal(syscall.SIGINT)
			run.wait(b, 30*time.Second)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2-1]+lat[len(lat)/2])/2/1e6, "ms-p50")
	b.ReportMetric(float64(lat[(99*len(lat)+99)/100-1])/1e6, "ms-p99")
	b.Logf("start to first packet on disk, sorted: %v", lat)
}

// firstPacket reports whether the pcapng file at path holds a packet.
func firstPacket(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		return false
	}
	_, _, err = r.ReadPacketData()
	return err == nil
}

// background runs step in a loop until the returned stop is called.
func background(step func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			step(ctx)
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}

// floodTime is how long BenchmarkCaptureThroughput floods.
const floodTime = 3 * time.Second

var droppedPattern = regexp.MustCompile(`(\d+) dropped by the kernel`)

// BenchmarkCaptureThroughput floods one frontend with 64-byte UDP frames
// from a backend on its node, as fast as one sender goes, while the
// frontend is captured through the relay into a file, and reports the
// rate of packets sent, of packets written to the file, and the share the
// kernel dropped for the capture.
func BenchmarkCaptureThroughput(b *testing.B) {
	ce := setupCapture(b)
	front0, frontPod := ce.host(b, "frontend", 0)
	back0, _ := ce.host(b, "backend", 0)
	var rx *net.UDPConn
	if err := front0.Netns.Do(func() error {
		var err error
		rx, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(front0.IPv4, 9000)))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	defer rx.Close()
	go func() {
		buf := make([]byte, 64)
		for {
			if _, err := rx.Read(buf); err != nil {
				return
			}
		}
	}()
	var tx *net.UDPConn
	if err := back0.Netns.Do(func() error {
		var err error
		tx, err = net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(front0.IPv4, 9000)))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	defer tx.Close()
	var sentRate, writtenRate, dropShare float64
	for b.Loop() {
		run := ce.startCapture(b, "--pod", frontPod.Key(), "--duration", "60s", "--max-size", "1GiB", "--snap-length", "128", "-f", "udp port 9000")
		run.waitStarted(b, "default/node1")
		var sent atomic.Uint64
		payload := make([]byte, 64-14-20-8)
		start := time.Now()
		for time.Since(start) < floodTime {
			for range 64 {
				if _, err := tx.Write(payload); err == nil {
					sent.Add(1)
				}
			}
		}
		elapsed := time.Since(start)
		time.Sleep(500 * time.Millisecond) // the capture's order window and the relay's merge
		_ = run.cmd.Process.Signal(syscall.SIGINT)
		run.wait(b, 60*time.Second)
		written := len(readCapture(b, run.out))
		var dropped float64
		if m := droppedPattern.FindStringSubmatch(run.stderr.String()); m != nil {
			dropped, _ = strconv.ParseFloat(m[1], 64)
		}
		sentRate += float64(sent.Load()) / elapsed.Seconds()
		writtenRate += float64(written) / elapsed.Seconds()
		dropShare += dropped / float64(sent.Load())
	}
	n := float64(b.N)
	b.ReportMetric(sentRate/n, "sent-pkt/s")
	b.ReportMetric(writtenRate/n, "written-pkt/s")
	b.ReportMetric(dropShare/n, "dropped/sent")
}
