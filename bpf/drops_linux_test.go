//go:build linux

package bpf

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/ipv6"

	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/test/cluster"
)

// inPod runs fn switched into the named namespace (the pod's, usually).
func inPod(t *testing.T, podNS string, fn func() error) {
	t.Helper()
	if err := cluster.NewNetns(podNS).Do(fn); err != nil {
		t.Fatal(err)
	}
}

// dialFromPod connects from the pod to addr and returns the dial error.
func dialFromPod(t *testing.T, podNS, network, addr string) error {
	t.Helper()
	var dialErr error
	inPod(t, podNS, func() error {
		c, err := net.DialTimeout(network, addr, 300*time.Millisecond)
		if err == nil {
			if network == "udp" {
				_, err = c.Write([]byte("x"))
			}
			_ = c.Close()
		}
		dialErr = err
		return nil
	})
	return dialErr
}

// sendVXLAN sends inner, framed as flannel's VXLAN does, to port 8472 of
// dst.
func sendVXLAN(t *testing.T, dst string, inner []byte) {
	t.Helper()
	conn, err := net.Dial("udp", net.JoinHostPort(dst, "8472"))
	if err != nil {
		t.Fatalf("dial vxlan: %v", err)
	}
	defer conn.Close()
	if _, err := conn.Write(append(vxlanHeader(1, 0x08), ethFrame(0x0800, inner)...)); err != nil {
		t.Fatalf("send vxlan: %v", err)
	}
}

// testDrops checks that packets the kernel drops in the source's namespace
// and in the pod's behind its veth are reported with the kernel's reason,
// and drops in another namespace are not.
func testDrops(t *testing.T, podNS string) {
	other := fmt.Sprintf("fovea-bpf-other-%d", os.Getpid())
	sh(t, "ip", "netns", "add", other)
	defer func() { _ = exec.Command("ip", "netns", "del", other).Run() }()
	sh(t, "ip", "-n", other, "link", "set", "lo", "up")

	sh(t, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "7001", "-j", "DROP")
	defer func() {
		_ = exec.Command("iptables", "-D", "INPUT", "-p", "tcp", "--dport", "7001", "-j", "DROP").Run()
	}()
	sh(t, "iptables", "-A", "OUTPUT", "-p", "udp", "--dport", "7007", "-j", "DROP")
	defer func() {
		_ = exec.Command("iptables", "-D", "OUTPUT", "-p", "udp", "--dport", "7007", "-j", "DROP").Run()
	}()

	c := startCapture(t, Config{Interfaces: []string{hostIf}})
	c.waitHook(t, hostIf+":true", 5*time.Second)
	defer c.stop(t)

	host4, pod4 := netip.MustParseAddr(hostIPv4), netip.MustParseAddr(podIPv4)
	host6, pod6 := netip.MustParseAddr(hostIPv6), netip.MustParseAddr(podIPv6)

	if err := dialFromPod(t, podNS, "tcp", net.JoinHostPort(hostIPv4, "7001")); err == nil {
		t.Fatal("dial through the DROP rule succeeded")
	}
	if err := dialFromPod(t, podNS, "tcp", net.JoinHostPort(hostIPv4, "7002")); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial to a closed port: %v, want connection refused", err)
	}
	_ = dialFromPod(t, podNS, "udp", net.JoinHostPort(hostIPv4, "7003"))
	_ = dialFromPod(t, podNS, "udp", net.JoinHostPort(hostIPv6, "7003"))
	// A drop in the pod's namespace, reported, and one in a namespace
	// unrelated to the source, not reported.
	if _, err := net.DialTimeout("tcp", net.JoinHostPort(podIPv4, "7004"), time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial to the pod's closed port: %v, want connection refused", err)
	}
	if err := dialFromPod(t, other, "tcp", "127.0.0.1:7005"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial to a closed port in %s: %v, want connection refused", other, err)
	}
	// A VXLAN packet no socket takes in the pod: the drop is the inner
	// packet's, as on a node whose tunnel endpoint is down.
	sendVXLAN(t, podIPv4, ipv4Packet("10.244.1.10", "10.244.2.20", record.ProtoTCP, tcpSegment(40000, 7006, record.TCPSyn)))
	// A packet the node's own socket sends, dropped on its way out.
	if conn, err := net.Dial("udp", net.JoinHostPort(podIPv4, "7007")); err == nil {
		_, _ = conn.Write([]byte("x"))
		conn.Close()
	}

	for _, w := range []struct {
		name     string
		src, dst netip.Addr
		proto    uint8
		dport    uint16
		flags    uint16
		kernel   string
		hubble   flowpb.DropReason
		// inPod: dropped in the pod's namespace, whose interfaces are
		// not the source's.
		inPod bool
		// sent: a local socket sent the packet, which no capture saw.
		sent bool
	}{
		{"netfilter", pod4, host4, record.ProtoTCP, 7001, record.TCPSyn, "NETFILTER_DROP", flowpb.DropReason_POLICY_DENIED, false, false},
		{"tcp no socket", pod4, host4, record.ProtoTCP, 7002, record.TCPSyn, "NO_SOCKET", flowpb.DropReason_SOCKET_LOOKUP_FAILED, false, false},
		{"udp4 no socket", pod4, host4, record.ProtoUDP, 7003, 0, "NO_SOCKET", flowpb.DropReason_SOCKET_LOOKUP_FAILED, false, false},
		{"udp6 no socket", pod6, host6, record.ProtoUDP, 7003, 0, "NO_SOCKET", flowpb.DropReason_SOCKET_LOOKUP_FAILED, false, false},
		{"no socket in the pod", host4, pod4, record.ProtoTCP, 7004, record.TCPSyn, "NO_SOCKET", flowpb.DropReason_SOCKET_LOOKUP_FAILED, true, false},
		{"tunnelled", netip.MustParseAddr("10.244.1.10"), netip.MustParseAddr("10.244.2.20"), record.ProtoTCP, 7006, record.TCPSyn, "NO_SOCKET", flowpb.DropReason_SOCKET_LOOKUP_FAILED, true, false},
		{"sent", host4, pod4, record.ProtoUDP, 7007, 0, "NETFILTER_DROP", flowpb.DropReason_POLICY_DENIED, false, true},
	} {
		r := c.waitRecord(t, w.name, func(r *record.Record) bool {
			return r.Kind == record.KindDrop && r.SrcAddr() == w.src && r.DstAddr() == w.dst &&
				r.Proto == w.proto && r.DstPort == w.dport && r.TCPFlags == w.flags
		})
		if r.Verdict != uint8(flowpb.Verdict_DROPPED) || flowpb.DropReason(r.DropReason) != w.hubble {
			t.Errorf("%s: verdict %d reason %v, want DROPPED %v", w.name, r.Verdict, flowpb.DropReason(r.DropReason), w.hubble)
		}
		if names := c.tables.Names.Get(r.Ext); len(names) != 1 || names[0] != w.kernel {
			t.Errorf("%s: kernel reason %v (code %d), want %s", w.name, names, r.KernelDropReason(), w.kernel)
		}
		if sent := r.Flags&record.FlagSent != 0; sent != w.sent {
			t.Errorf("%s: sent by a local socket %v, want %v", w.name, sent, w.sent)
		}
		if w.sent {
			continue
		}
		// The capture program saw the dropped packet open its connection.
		if reply, known := r.Reply(); !known || reply {
			t.Errorf("%s: reply=%v known=%v, want a known request", w.name, reply, known)
		}
		if r.KernelDropReason() == 0 || r.SrcPort == 0 {
			t.Errorf("%s: kernel code %d, source port %d", w.name, r.KernelDropReason(), r.SrcPort)
		}
		wantIf := hostIf
		if w.inPod {
			wantIf = ""
		}
		if name := c.tables.Interfaces.Get(r.Iface).GetName(); name != wantIf {
			t.Errorf("%s: interface %q, want %q", w.name, name, wantIf)
		}
	}
	// The node counters total the same drops: NETFILTER_DROP once on the
	// captured interface, and NO_SOCKET for the five refused packets.
	totals := map[string]uint64{}
	for _, d := range c.src.DropCounts() {
		if d.Bytes == 0 {
			t.Errorf("drop count %+v has no bytes", d)
		}
		totals[d.Reason+"@"+d.Interface] += d.Packets
		totals[d.Reason] += d.Packets
		totals[d.Reason+"/"+d.Dir.String()] += d.Packets
	}
	if totals["NETFILTER_DROP/egress"] < 1 || totals["NO_SOCKET/egress"] != 0 {
		t.Errorf("drop counts %v: want the sent packet's NETFILTER_DROP egress, every NO_SOCKET ingress", c.src.DropCounts())
	}
	if totals["NETFILTER_DROP@"+hostIf] < 1 || totals["NO_SOCKET"] < 5 {
		t.Errorf("drop counts %v: want NETFILTER_DROP on %s and five NO_SOCKET", c.src.DropCounts(), hostIf)
	}
	// The refused connection's reset, sent back to the pod, is traced.
	c.waitRecord(t, "rst to the pod", func(r *record.Record) bool {
		return r.Kind == record.KindTrace && r.SrcAddr() == host4 && r.DstAddr() == pod4 &&
			r.SrcPort == 7002 && r.TCPFlags&record.TCPRst != 0
	})
	// So is the pod's reset for its own closed port.
	c.waitRecord(t, "rst from the pod", func(r *record.Record) bool {
		return r.Kind == record.KindTrace && r.SrcAddr() == pod4 && r.SrcPort == 7004 && r.TCPFlags&record.TCPRst != 0
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.recs {
		if r.Kind == record.KindDrop && r.DstPort == 7005 {
			t.Errorf("drop in an unrelated namespace reported: %+v", r)
		}
	}
}

// testRetransmissions checks that segments the source's namespace
// retransmits are reported and counted: the pod drops a third of what the
// host sends it during a transfer. (A random iptables rule rather than tc
// netem, which not every kernel builds.)
func testRetransmissions(t *testing.T, podNS string) {
	rule := []string{"INPUT", "-p", "tcp", "--dport", "8080", "-m", "statistic", "--mode", "random", "--probability", "0.3", "-j", "DROP"}
	sh(t, "ip", append([]string{"netns", "exec", podNS, "iptables", "-A"}, rule...)...)
	defer func() {
		_ = exec.Command("ip", append([]string{"netns", "exec", podNS, "iptables", "-D"}, rule...)...).Run()
	}()

	c := startCapture(t, Config{Interfaces: []string{hostIf}})
	c.waitHook(t, hostIf+":true", 5*time.Second)
	defer c.stop(t)

	// The echo is a few GSO segments, so one connection may lose none of
	// them to the random drops (about 8% of the time); three connections
	// make a run without any retransmission vanishingly rare.
	sports := map[uint16]bool{}
	for range 3 {
		sports[startEcho(t, podIPv4)] = true
	}

	host4, pod4 := netip.MustParseAddr(hostIPv4), netip.MustParseAddr(podIPv4)
	// A data segment or a SYN of one of them.
	r := c.waitRecord(t, "retransmission", func(r *record.Record) bool {
		return r.Retransmit && r.SrcAddr() == host4 && r.DstAddr() == pod4 && sports[r.SrcPort] && r.DstPort == 8080
	})
	// The tracepoint's skb holds the payload only: a data segment has bytes,
	// a retransmitted SYN none.
	if r.Kind != record.KindTrace || r.Proto != record.ProtoTCP || r.Verdict != uint8(flowpb.Verdict_FORWARDED) ||
		flowpb.TraceObservationPoint(r.ObsPoint) != flowpb.TraceObservationPoint_FROM_STACK || (r.Bytes == 0) != (r.TCPFlags&record.TCPSyn != 0) {
		t.Errorf("retransmission record %+v", r)
	}
	if reply, known := r.Reply(); !known || reply {
		t.Errorf("retransmission: reply=%v known=%v, want a known request", reply, known)
	}
	if n := gatherCounter(t, c.src, "tcp_retransmissions_total"); n < 1 {
		t.Errorf("tcp_retransmissions_total = %v, want at least 1", n)
	}
}

// startEcho streams 256 KiB through a connection to the pod's echo port in
// the background, until the test ends, and returns its source port. Under
// the random drops the transfer itself may take long (the retransmission
// timer backs off), so nothing waits for it: the test waits for what it
// asserts, the retransmission.
func startEcho(t *testing.T, podIP string) uint16 {
	t.Helper()
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(podIP, "8080"), 10*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	go func() { _, _ = conn.Write(make([]byte, 256<<10)) }()
	go func() { _, _ = io.Copy(io.Discard, conn) }()
	return uint16(conn.LocalAddr().(*net.TCPAddr).Port)
}

// gatherCounter returns the value of an unlabelled counter the source's
// collector exports.
func gatherCounter(t *testing.T, s *Source, name string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no counter %s", name)
	return 0
}

// testUnspecifiedDrops checks that packets the kernel frees with
// NOT_SPECIFIED are only counted by default and reported as drops with
// ReportUnspecifiedDrops. The pod sends UDP to an IPv6 multicast group the
// host has not joined, which the host's IPv6 input (ip6_mc_input) frees
// with that reason.
func testUnspecifiedDrops(t *testing.T, podNS string) {
	const (
		group   = "ff02::1:77"
		port    = 7006
		packets = 5
		// skb->len at the receiver: IPv6 and UDP headers and one byte.
		packetLen = 40 + 8 + 1
	)
	pod6, dst := netip.MustParseAddr(podIPv6), netip.MustParseAddr(group)
	ours := func(r *record.Record) bool {
		return r.Kind == record.KindDrop && r.SrcAddr() == pod6 && r.DstAddr() == dst && r.Proto == record.ProtoUDP && r.DstPort == port
	}
	send := func(t *testing.T) {
		inPod(t, podNS, func() error { return sendMulticast(podIPv6, podIf, group, port, packets) })
	}

	t.Run("counted", func(t *testing.T) {
		c := startCapture(t, Config{Interfaces: []string{hostIf}})
		c.waitHook(t, hostIf+":true", 5*time.Second)
		defer c.stop(t)

		// Other frees with the reason (the veths' own MLD reports) may
		// be counted too, hence at least.
		pkts0 := gatherCounter(t, c.src, "drops_unreported_packets_total")
		bytes0 := gatherCounter(t, c.src, "drops_unreported_bytes_total")
		send(t)
		deadline := time.Now().Add(5 * time.Second)
		for {
			pkts := gatherCounter(t, c.src, "drops_unreported_packets_total") - pkts0
			bytes := gatherCounter(t, c.src, "drops_unreported_bytes_total") - bytes0
			if pkts >= packets && bytes >= packets*packetLen {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("unreported drops rose by %v packets, %v bytes; want at least %d, %d", pkts, bytes, packets, packets*packetLen)
			}
			time.Sleep(20 * time.Millisecond)
		}
		// A drop sent after them is reported, so the reader was running.
		_ = dialFromPod(t, podNS, "udp", net.JoinHostPort(hostIPv6, "7007"))
		c.waitRecord(t, "udp6 no socket", func(r *record.Record) bool {
			return r.Kind == record.KindDrop && r.SrcAddr() == pod6 && r.DstPort == 7007
		})
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, r := range c.recs {
			if names := c.tables.Names.Get(r.Ext); ours(&r) || r.Kind == record.KindDrop && len(names) == 1 && names[0] == unspecifiedReason {
				t.Errorf("NOT_SPECIFIED drop reported by default: %+v", r)
			}
		}
		for _, d := range c.src.DropCounts() {
			if d.Reason == unspecifiedReason {
				t.Errorf("NOT_SPECIFIED drop counted as reported by default: %+v", d)
			}
		}
	})

	t.Run("reported", func(t *testing.T) {
		c := startCapture(t, Config{Interfaces: []string{hostIf}, ReportUnspecifiedDrops: true})
		c.waitHook(t, hostIf+":true", 5*time.Second)
		defer c.stop(t)

		send(t)
		r := c.waitRecord(t, "multicast no one listens to", ours)
		if names := c.tables.Names.Get(r.Ext); len(names) != 1 || names[0] != unspecifiedReason {
			t.Errorf("kernel reason %v (code %d), want %s", names, r.KernelDropReason(), unspecifiedReason)
		}
		if r.Verdict != uint8(flowpb.Verdict_DROPPED) || flowpb.DropReason(r.DropReason) != flowpb.DropReason_DROP_REASON_UNKNOWN {
			t.Errorf("verdict %d reason %v, want DROPPED DROP_REASON_UNKNOWN", r.Verdict, flowpb.DropReason(r.DropReason))
		}
		if name := c.tables.Interfaces.Get(r.Iface).GetName(); name != hostIf {
			t.Errorf("interface %q, want %s", name, hostIf)
		}
		var counted uint64
		for _, d := range c.src.DropCounts() {
			if d.Reason == unspecifiedReason {
				counted += d.Packets
			}
		}
		if counted < 1 {
			t.Errorf("drop counts %v: want NOT_SPECIFIED", c.src.DropCounts())
		}
		if n := gatherCounter(t, c.src, "drops_unreported_packets_total"); n != 0 {
			t.Errorf("drops_unreported_packets_total = %v with ReportUnspecifiedDrops, want 0", n)
		}
	})
}

// sendMulticast sends n one-byte UDP datagrams from src to group:port out of
// the interface ifName.
func sendMulticast(src, ifName, group string, port, n int) error {
	ifi, err := net.InterfaceByName(ifName)
	if err != nil {
		return fmt.Errorf("find interface %s: %w", ifName, err)
	}
	pc, err := net.ListenPacket("udp6", net.JoinHostPort(src, "0"))
	if err != nil {
		return fmt.Errorf("listen udp6: %w", err)
	}
	defer pc.Close()
	if err := ipv6.NewPacketConn(pc).SetMulticastInterface(ifi); err != nil {
		return fmt.Errorf("set multicast interface: %w", err)
	}
	for range n {
		if _, err := pc.WriteTo([]byte("x"), &net.UDPAddr{IP: net.ParseIP(group), Port: port}); err != nil {
			return fmt.Errorf("send to %s: %w", group, err)
		}
	}
	return nil
}
