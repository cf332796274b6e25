//go:build linux

package bpf

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/test/cluster"
)

// The end-to-end test runs the source in its own network namespace: the
// test binary re-executes itself under `ip netns exec` so that every thread
// of the child (netlink, tcx attach, the ring reader) lives there. The
// child captures on the "host" end of a veth pair whose other end sits in
// a second namespace playing the pod.
const (
	childEnv = "FOVEA_BPF_TEST_POD_NETNS"
	hostIf   = "fvh0"
	podIf    = "fvp0"
	hostIPv4 = "10.77.0.1"
	podIPv4  = "10.77.0.2"
	hostIPv6 = "fd77::1"
	podIPv6  = "fd77::2"
)

func TestCaptureVeth(t *testing.T) {
	if mode := os.Getenv(agentEnv); mode != "" {
		runAgent(t, mode)
		return
	}
	if pod := os.Getenv(childEnv); pod != "" {
		runVethChild(t, pod)
		return
	}
	requireRoot(t)
	host := fmt.Sprintf("fovea-bpf-host-%d", os.Getpid())
	pod := fmt.Sprintf("fovea-bpf-pod-%d", os.Getpid())
	for _, ns := range []string{host, pod} {
		sh(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	// Wired as the CNI ptp plugin does: the host end holds host routes to
	// the pod and an address of its own, but no subnet, which would make
	// it a link to a network.
	sh(t, "ip", "-n", host, "link", "add", hostIf, "type", "veth", "peer", "name", podIf, "netns", pod)
	for _, c := range []struct{ ns, dev, v4, v6, bits4, bits6 string }{
		{host, hostIf, hostIPv4, hostIPv6, "/32", "/128"},
		{pod, podIf, podIPv4, podIPv6, "/24", "/64"},
	} {
		sh(t, "ip", "-n", c.ns, "addr", "add", c.v4+c.bits4, "dev", c.dev)
		sh(t, "ip", "-n", c.ns, "addr", "add", c.v6+c.bits6, "dev", c.dev, "nodad")
		sh(t, "ip", "-n", c.ns, "link", "set", c.dev, "up")
		sh(t, "ip", "-n", c.ns, "link", "set", "lo", "up")
	}
	sh(t, "ip", "-n", host, "route", "add", podIPv4+"/32", "dev", hostIf)
	sh(t, "ip", "-n", host, "route", "add", podIPv6+"/128", "dev", hostIf)

	cmd := exec.Command("ip", "netns", "exec", host, os.Args[0], "-test.run=^TestCaptureVeth$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+pod)
	out, err := cmd.CombinedOutput()
	t.Logf("child output:\n%s", out)
	if err != nil {
		t.Fatalf("child test in namespace %s failed: %v", host, err)
	}
}

func sh(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func runVethChild(t *testing.T, podNS string) {
	servers := startPodServers(t, podNS)
	defer servers.Close()
	t.Run("default selection", testDefaultSelection)
	t.Run("drops", func(t *testing.T) { testDrops(t, podNS) })
	t.Run("unspecified drops", func(t *testing.T) { testUnspecifiedDrops(t, podNS) })
	t.Run("retransmissions", func(t *testing.T) { testRetransmissions(t, podNS) })
	t.Run("snippets", testSnippets)
	t.Run("http snippets", testHTTPSnippets)
	t.Run("forward counters", testForwardCounters)
	t.Run("coexistence", func(t *testing.T) { testCoexistence(t, podNS) })
	t.Run("l3 device", testL3Device)
	t.Run("masquerade", func(t *testing.T) { testMasquerade(t, podNS) })
	t.Run("packet socket", testPacketSocket)
	for _, mode := range []struct {
		name    string
		forceTC bool
	}{{"tcx", false}, {"tc", true}} {
		t.Run(mode.name, func(t *testing.T) {
			var opts []Option
			if mode.forceTC {
				opts = append(opts, withForceTC())
			}
			testCaptureTraffic(t, mode.forceTC, opts...)
		})
	}
}

// capture runs a Source and collects what it emits.
type capture struct {
	mu      sync.Mutex
	recs    []record.Record
	hooks   []string
	tables  *intern.Tables
	src     *Source
	cancel  context.CancelFunc
	done    chan struct{} // closed when Run has returned runErr
	runErr  error
	hookSig chan struct{}
	stopped bool
}

func startCapture(t *testing.T, cfg Config, opts ...Option) *capture {
	t.Helper()
	c := &capture{tables: intern.NewTables(), done: make(chan struct{}), hookSig: make(chan struct{}, 64)}
	opts = append(opts, WithAttachHook(func(iface string, ifindex int, attached bool) {
		c.mu.Lock()
		c.hooks = append(c.hooks, fmt.Sprintf("%s:%v", iface, attached))
		c.mu.Unlock()
		c.hookSig <- struct{}{}
	}))
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src, err := NewSource(cfg, log, c.tables, opts...)
	if err != nil {
		t.Fatalf("NewSource: %v", err)
	}
	c.src = src
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		defer close(c.done)
		c.runErr = src.Run(ctx, func(r *record.Record) {
			c.mu.Lock()
			c.recs = append(c.recs, *r)
			c.mu.Unlock()
		})
	}()
	// A test that failed before stop must not leave its programs attached
	// for the next one.
	t.Cleanup(func() {
		if !c.stopped {
			c.stop(t)
		}
	})
	return c
}

// stop ends Run and releases the source.
func (c *capture) stop(t *testing.T) {
	t.Helper()
	c.stopped = true
	c.cancel()
	select {
	case <-c.done:
		if c.runErr != nil {
			t.Errorf("Run: %v", c.runErr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if err := c.src.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func (c *capture) waitHook(t *testing.T, want string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		c.mu.Lock()
		for _, h := range c.hooks {
			if h == want {
				c.mu.Unlock()
				return
			}
		}
		hooks := append([]string(nil), c.hooks...)
		c.mu.Unlock()
		select {
		case <-c.hookSig:
		case <-deadline:
			t.Fatalf("no attach hook %q within %v; got %v", want, within, hooks)
		}
	}
}

// waitRecord waits for a record matching pred.
func (c *capture) waitRecord(t *testing.T, what string, pred func(*record.Record) bool) record.Record {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, r := range c.recs {
			if pred(&r) {
				c.mu.Unlock()
				return r
			}
		}
		c.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.recs {
		t.Logf("have %s:%d -> %s:%d proto %d flags %#x obs %d icmp %d", r.SrcAddr(), r.SrcPort, r.DstAddr(), r.DstPort, r.Proto, r.TCPFlags, r.ObsPoint, r.ICMPType)
	}
	t.Fatalf("no record for %s among %d", what, len(c.recs))
	return record.Record{}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func testCaptureTraffic(t *testing.T, tc bool, opts ...Option) {
	host, err := netlink.LinkByName(hostIf)
	if err != nil {
		t.Fatalf("find %s: %v", hostIf, err)
	}
	hostIndex := host.Attrs().Index
	if tc {
		// A filter as a killed agent would leave it: Run must remove it.
		stale := newTestSource(t, Config{})
		if _, err := attachTC(hostIndex, stale.objs.CaptureIngress, stale.objs.CaptureEgress); err != nil {
			t.Fatalf("add stale filter: %v", err)
		}
	}

	c := startCapture(t, Config{Interfaces: []string{hostIf, "fvn*"}}, opts...)
	c.waitHook(t, hostIf+":true", 5*time.Second)
	if tc {
		if n := len(ourFilters(t, host)); n != 2 {
			t.Fatalf("%d fovea tc filters on %s after attach, want 2 (stale ones removed)", n, hostIf)
		}
	} else if n := countTCX(t, hostIndex); n != 2 {
		// A kernel without tcx would have fallen back to tc: that must fail here.
		t.Fatalf("%d tcx programs on %s after attach, want 2", n, hostIf)
	}

	start := time.Now()
	exchangeTraffic(t)

	type conn struct {
		name         string
		src, dst     string
		proto        uint8
		sport, dport uint16 // zero: any
		icmpType     uint8
		tcpFlags     uint16 // required bits
		obs          flowpb.TraceObservationPoint
		reply        bool
	}
	toPod, fromPod := flowpb.TraceObservationPoint_TO_ENDPOINT, flowpb.TraceObservationPoint_FROM_ENDPOINT
	for _, w := range []conn{
		{"tcp4 syn", hostIPv4, podIPv4, record.ProtoTCP, 0, 8080, 0, record.TCPSyn, toPod, false},
		{"tcp4 syn-ack", podIPv4, hostIPv4, record.ProtoTCP, 8080, 0, 0, record.TCPSyn | record.TCPAck, fromPod, true},
		{"tcp4 data", hostIPv4, podIPv4, record.ProtoTCP, 0, 8080, 0, record.TCPPsh | record.TCPAck, toPod, false},
		{"tcp4 response", podIPv4, hostIPv4, record.ProtoTCP, 8080, 0, 0, record.TCPPsh | record.TCPAck, fromPod, true},
		{"tcp4 fin", hostIPv4, podIPv4, record.ProtoTCP, 0, 8080, 0, record.TCPFin, toPod, false},
		{"tcp6 syn", hostIPv6, podIPv6, record.ProtoTCP, 0, 8080, 0, record.TCPSyn, toPod, false},
		{"tcp6 syn-ack", podIPv6, hostIPv6, record.ProtoTCP, 8080, 0, 0, record.TCPSyn | record.TCPAck, fromPod, true},
		{"udp4 request", hostIPv4, podIPv4, record.ProtoUDP, 0, 5353, 0, 0, toPod, false},
		{"udp4 response", podIPv4, hostIPv4, record.ProtoUDP, 5353, 0, 0, 0, fromPod, true},
		{"udp6 request", hostIPv6, podIPv6, record.ProtoUDP, 0, 5353, 0, 0, toPod, false},
		{"udp6 response", podIPv6, hostIPv6, record.ProtoUDP, 5353, 0, 0, 0, fromPod, true},
		{"icmp4 echo", hostIPv4, podIPv4, record.ProtoICMP, 0, 0, 8, 0, toPod, false},
		{"icmp4 echo reply", podIPv4, hostIPv4, record.ProtoICMP, 0, 0, 0, 0, fromPod, true},
		{"icmp6 echo", hostIPv6, podIPv6, record.ProtoICMPv6, 0, 0, 128, 0, toPod, false},
		{"icmp6 echo reply", podIPv6, hostIPv6, record.ProtoICMPv6, 0, 0, 129, 0, fromPod, true},
	} {
		src, dst := netip.MustParseAddr(w.src), netip.MustParseAddr(w.dst)
		r := c.waitRecord(t, w.name, func(r *record.Record) bool {
			return r.Kind == record.KindTrace && r.SrcAddr() == src && r.DstAddr() == dst && r.Proto == w.proto &&
				(w.sport == 0 || r.SrcPort == w.sport) && (w.dport == 0 || r.DstPort == w.dport) &&
				r.TCPFlags&w.tcpFlags == w.tcpFlags && (w.proto != record.ProtoTCP || w.tcpFlags != 0) &&
				(!isICMP(w.proto) || r.ICMPType == w.icmpType) &&
				// A bare SYN must not match the SYN-ACK expectation and vice versa.
				(w.tcpFlags&record.TCPSyn == 0 || r.TCPFlags&record.TCPAck == w.tcpFlags&record.TCPAck)
		})
		if got := flowpb.TraceObservationPoint(r.ObsPoint); got != w.obs {
			t.Errorf("%s: observation point %v, want %v", w.name, got, w.obs)
		}
		if reply, known := r.Reply(); !known || reply != w.reply {
			t.Errorf("%s: reply=%v known=%v, want reply=%v", w.name, reply, known, w.reply)
		}
		if r.Verdict != uint8(flowpb.Verdict_FORWARDED) || r.Bytes == 0 {
			t.Errorf("%s: verdict %d bytes %d", w.name, r.Verdict, r.Bytes)
		}
		if ts := time.Unix(0, r.Time); ts.Before(start.Add(-time.Second)) || ts.After(time.Now().Add(time.Second)) {
			t.Errorf("%s: time %v outside the test's window starting %v", w.name, ts, start)
		}
		if ifc := c.tables.Interfaces.Get(r.Iface); ifc.GetName() != hostIf || int(ifc.GetIndex()) != hostIndex {
			t.Errorf("%s: interface %v, want %s/%d", w.name, ifc, hostIf, hostIndex)
		}
		if isICMP(w.proto) && (r.SrcPort != 0 || r.DstPort != 0) {
			t.Errorf("%s: ICMP record carries ports", w.name)
		}
	}

	// Interfaces created while running are attached within a second, and
	// forgotten when deleted.
	sh(t, "ip", "link", "add", "fvn0", "type", "veth", "peer", "name", "fvn1")
	c.waitHook(t, "fvn0:true", time.Second)
	c.waitHook(t, "fvn1:true", time.Second)
	sh(t, "ip", "link", "del", "fvn0")
	c.waitHook(t, "fvn0:false", time.Second)

	c.stop(t)
	c.waitHook(t, hostIf+":false", time.Second)
	if tc {
		if n := len(ourFilters(t, host)); n != 0 {
			t.Errorf("%d fovea tc filters left on %s after Run returned", n, hostIf)
		}
	} else if n := countTCX(t, hostIndex); n != 0 {
		t.Errorf("%d tcx programs left on %s after Run returned", n, hostIf)
	}
}

func isICMP(proto uint8) bool { return proto == record.ProtoICMP || proto == record.ProtoICMPv6 }

func ourFilters(t *testing.T, l netlink.Link) []*netlink.BpfFilter {
	t.Helper()
	var out []*netlink.BpfFilter
	for _, parent := range tcParents() {
		filters, err := netlink.FilterList(l, parent)
		if err != nil {
			t.Fatalf("list filters: %v", err)
		}
		for _, f := range filters {
			if bf, ok := f.(*netlink.BpfFilter); ok && strings.HasPrefix(bf.Name, tcNamePrefix) {
				out = append(out, bf)
			}
		}
	}
	return out
}

// podServers are TCP and UDP echo servers whose sockets live in the pod
// namespace.
type podServers struct {
	closers []io.Closer
}

func (p *podServers) Close() {
	for _, c := range p.closers {
		_ = c.Close()
	}
}

func startPodServers(t *testing.T, podNS string) *podServers {
	t.Helper()
	p := &podServers{}
	// Sockets keep the namespace they were created in.
	err := cluster.NewNetns(podNS).Do(func() error {
		for _, addr := range []string{podIPv4, podIPv6} {
			l, err := net.Listen("tcp", net.JoinHostPort(addr, "8080"))
			if err != nil {
				return err
			}
			p.closers = append(p.closers, l)
			go serveTCP(l)
			pc, err := net.ListenPacket("udp", net.JoinHostPort(addr, "5353"))
			if err != nil {
				return err
			}
			p.closers = append(p.closers, pc)
			go serveUDP(pc)
		}
		return nil
	})
	if err != nil {
		p.Close()
		t.Fatalf("start pod servers: %v", err)
	}
	return p
}

func serveTCP(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_, _ = io.Copy(c, c)
		}()
	}
}

func serveUDP(pc net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		_, _ = pc.WriteTo(buf[:n], from)
	}
}

// exchangeTraffic sends, from the host namespace, a TCP exchange (connect,
// data, close), a UDP exchange and pings over both address families.
func exchangeTraffic(t *testing.T) {
	t.Helper()
	msg := []byte("hello pod")
	for _, addr := range []string{podIPv4, podIPv6} {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(addr, "8080"), 2*time.Second)
		if err != nil {
			t.Fatalf("dial tcp %s: %v", addr, err)
		}
		_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, len(msg))
		if _, err := conn.Write(msg); err != nil {
			t.Fatalf("tcp write: %v", err)
		}
		if _, err := io.ReadFull(conn, buf); err != nil || !bytes.Equal(buf, msg) {
			t.Fatalf("tcp echo from %s: %q, %v", addr, buf, err)
		}
		_ = conn.Close()

		uc, err := net.Dial("udp", net.JoinHostPort(addr, "5353"))
		if err != nil {
			t.Fatalf("dial udp %s: %v", addr, err)
		}
		_ = uc.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := uc.Write(msg); err != nil {
			t.Fatalf("udp write: %v", err)
		}
		if _, err := uc.Read(buf); err != nil {
			t.Fatalf("udp echo from %s: %v", addr, err)
		}
		_ = uc.Close()

		if out, err := exec.Command("ping", "-c", "1", "-W", "2", addr).CombinedOutput(); err != nil {
			t.Fatalf("ping %s: %v\n%s", addr, err, out)
		}
	}
}

// countTCX returns how many tcx programs are attached to an interface.
func countTCX(t *testing.T, index int) int {
	t.Helper()
	n := 0
	for _, at := range []ebpf.AttachType{ebpf.AttachTCXIngress, ebpf.AttachTCXEgress} {
		res, err := link.QueryPrograms(link.QueryOptions{Target: index, Attach: at})
		if err != nil {
			t.Fatalf("query tcx programs: %v", err)
		}
		n += len(res.Programs)
	}
	return n
}

// testDefaultSelection checks that without globs the source picks the
// host-side veths and the default-route device, and reports the latter's
// packets at the network observation points.
func testDefaultSelection(t *testing.T) {
	// A port-less bridge stands in for the uplink: it has Ethernet framing,
	// and with a static neighbour its packets reach tc egress unanswered.
	sh(t, "ip", "link", "add", "fvd0", "type", "bridge")
	defer func() { _ = exec.Command("ip", "link", "del", "fvd0").Run() }()
	sh(t, "ip", "addr", "add", "10.78.0.1/24", "dev", "fvd0")
	sh(t, "ip", "link", "set", "fvd0", "up")
	sh(t, "ip", "neigh", "add", "10.78.0.254", "lladdr", "02:00:00:00:00:fe", "dev", "fvd0")
	sh(t, "ip", "route", "add", "default", "via", "10.78.0.254", "dev", "fvd0", "onlink")

	c := startCapture(t, Config{})
	c.waitHook(t, hostIf+":true", 5*time.Second)
	c.waitHook(t, "fvd0:true", time.Second)
	c.mu.Lock()
	hooks := append([]string(nil), c.hooks...)
	c.mu.Unlock()
	if len(hooks) != 2 {
		t.Errorf("attached to %v, want only %s and fvd0", hooks, hostIf)
	}

	conn, err := net.Dial("udp", "192.0.2.7:9")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	_, _ = conn.Write([]byte("x"))
	_ = conn.Close()
	dst := netip.MustParseAddr("192.0.2.7")
	r := c.waitRecord(t, "udp via default route", func(r *record.Record) bool {
		return r.DstAddr() == dst && r.Proto == record.ProtoUDP && r.DstPort == 9
	})
	if got := flowpb.TraceObservationPoint(r.ObsPoint); got != flowpb.TraceObservationPoint_TO_NETWORK {
		t.Errorf("observation point %v, want TO_NETWORK", got)
	}
	if name := c.tables.Interfaces.Get(r.Iface).GetName(); name != "fvd0" {
		t.Errorf("interface %q, want fvd0", name)
	}
	c.stop(t)
}
