//go:build linux

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/foveanet/fovea/agent/inventory"
	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/testca"
	"github.com/foveanet/fovea/test/traffic"
)

// capturePrefix keeps the capture tests' cluster apart: they need a relay
// in front of agents that serve TCP.
const capturePrefix = "foveacap-"

// captureEnv is a two-node cluster of four pods a node (every workload on
// both nodes), agents serving TCP, and a relay on node1.
type captureEnv struct {
	*env
	relay string // relay unix socket
	life  context.Context
}

func setupCapture(t testing.TB) *captureEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: builds network namespaces and loads eBPF programs")
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Fatal("tshark is needed to read captures back: run scripts/install-deps.sh")
	}
	e, life := ownCluster(t, cluster.Config{Prefix: capturePrefix, Nodes: 2, PodsPerNode: 4})
	ce := &captureEnv{env: e, life: life}
	if err := e.startAgents(life, demo.ListenTCP(fmt.Sprintf(":%d", demo.AgentPort))); err != nil {
		t.Fatal(err)
	}
	if err := e.serve(life); err != nil {
		t.Fatal(err)
	}
	var err error
	if ce.relay, _, err = demo.StartRelay(life, e.cluster, e.fovea, "relay"); err != nil {
		t.Fatal(err)
	}
	// The relay dials its agents on its own: wait until it reaches both.
	eventually(t, 30*time.Second, func() error {
		return connectedNodes(ce.hubble(t, ce.relay, "list", "nodes"), []string{"default/node1", "default/node2"})
	})
	return ce
}

// host returns the pod named by its app and replica (0: node1, 1: node2).
func (ce *captureEnv) host(t testing.TB, app string, replica int) (traffic.Host, cluster.Pod) {
	t.Helper()
	var found []cluster.Pod
	for _, p := range ce.cluster.Topology.Pods() {
		if p.Labels["app"] == app {
			found = append(found, p)
		}
	}
	if replica >= len(found) {
		t.Fatalf("no replica %d of %s", replica, app)
	}
	p := found[replica]
	for _, h := range ce.hosts {
		if h.Name == p.Key() {
			return h, p
		}
	}
	t.Fatalf("no host for %s", p.Key())
	return traffic.Host{}, cluster.Pod{}
}

// lockedBuffer collects a process's output while tests read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// captureRun is a `fovea capture start` running in the background.
type captureRun struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	out    string
	began  time.Time
	done   chan error
}

// startCapture runs `fovea capture start` against the relay with args,
// writing to a file of t's.
func (ce *captureEnv) startCapture(t testing.TB, args ...string) *captureRun {
	t.Helper()
	r := &captureRun{stderr: &lockedBuffer{}, out: filepath.Join(t.TempDir(), "out.pcapng"), done: make(chan error, 1)}
	all := append([]string{"capture", "start", "--server", "unix://" + ce.relay, "-o", r.out}, args...)
	r.cmd = exec.Command(ce.fovea, all...)
	r.cmd.Stderr = r.stderr
	r.began = time.Now()
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.done
	})
	return r
}

// waitStarted waits until every node in nodes said its capture started:
// its sockets are open, so traffic from now on is captured.
func (r *captureRun) waitStarted(t testing.TB, nodes ...string) {
	t.Helper()
	eventually(t, 20*time.Second, func() error {
		select {
		case err := <-r.done:
			r.done <- err
			return fmt.Errorf("capture exited: %v\n%s", err, r.stderr.String())
		default:
		}
		for _, n := range nodes {
			if !strings.Contains(r.stderr.String(), n+": capture ") {
				return fmt.Errorf("no start from %s yet:\n%s", n, r.stderr.String())
			}
		}
		return nil
	})
}

// wait waits for the capture to exit within limit and returns how long it
// ran.
func (r *captureRun) wait(t testing.TB, limit time.Duration) time.Duration {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		if err != nil {
			t.Fatalf("capture failed: %v\n%s", err, r.stderr.String())
		}
	case <-time.After(limit):
		t.Fatalf("capture still runs after %v:\n%s", limit, r.stderr.String())
	}
	return time.Since(r.began)
}

// pcapPacket is a packet tshark read from a capture.
type pcapPacket struct {
	iface      string
	src, dst   netip.Addr // invalid for non-IP packets
	sport      string
	dport      string
	udp, tcp   bool
	icmp, arp  bool
	frameBytes string
}

func (p pcapPacket) String() string {
	return fmt.Sprintf("%s %s:%s > %s:%s", p.iface, p.src, p.sport, p.dst, p.dport)
}

// readCapture reads a pcapng file with tshark.
func readCapture(t testing.TB, path string) []pcapPacket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=|",
		"-e", "frame.interface_name", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst",
		"-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport", "-e", "frame.protocols", "-e", "frame.cap_len")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark -r %s: %v\n%s", path, err, stderr.String())
	}
	var out []pcapPacket
	for line := range strings.Lines(stdout.String()) {
		f := strings.Split(strings.TrimRight(line, "\n"), "|")
		if len(f) < 11 {
			t.Fatalf("tshark line %q", line)
		}
		p := pcapPacket{iface: f[0], sport: f[5] + f[7], dport: f[6] + f[8], tcp: f[5] != "", udp: f[7] != "", frameBytes: f[10]}
		protos := f[9]
		p.icmp = strings.Contains(protos, "icmp")
		p.arp = strings.Contains(protos, "arp")
		src, dst := f[1], f[2]
		if src == "" {
			src, dst = f[3], f[4]
		}
		p.src, _ = netip.ParseAddr(src)
		p.dst, _ = netip.ParseAddr(dst)
		out = append(out, p)
	}
	return out
}

// ownPacket reports whether p belongs on pod's interface: to or from one
// of its addresses, or the link's own chatter (ARP, IPv6 neighbor
// discovery from link-local or to multicast addresses).
func ownPacket(p pcapPacket, pod cluster.Pod) bool {
	switch {
	case p.arp:
		return true
	case !p.src.IsValid():
		return false
	case p.src == pod.IPv4 || p.dst == pod.IPv4 || p.src == pod.IPv6 || p.dst == pod.IPv6:
		return true
	}
	return p.icmp && (p.src.IsLinkLocalUnicast() || p.dst.IsMulticast())
}

// connPackets counts the packets of c: to and from its ends on their
// ports (for TCP and UDP) or its ICMP echoes.
func connPackets(pkts []pcapPacket, c traffic.Conn) int {
	n := 0
	for _, p := range pkts {
		fwd := p.src == c.Src.IP && p.dst == c.Dst.IP
		rev := p.src == c.Dst.IP && p.dst == c.Src.IP
		if !fwd && !rev {
			continue
		}
		switch c.Proto {
		case traffic.ProtoTCP, traffic.ProtoUDP:
			sp, dp := fmt.Sprint(c.Src.Port), fmt.Sprint(c.Dst.Port)
			if (fwd && p.sport == sp && p.dport == dp) || (rev && p.sport == dp && p.dport == sp) {
				n++
			}
		default:
			if p.icmp {
				n++
			}
		}
	}
	return n
}

func interfaceNames(pkts []pcapPacket) []string {
	var names []string
	for _, p := range pkts {
		if !slices.Contains(names, p.iface) {
			names = append(names, p.iface)
		}
	}
	slices.Sort(names)
	return names
}

func TestCapture(t *testing.T) {
	ce := setupCapture(t)
	ctx := context.Background()
	front0, frontPod0 := ce.host(t, "frontend", 0)
	front1, frontPod1 := ce.host(t, "frontend", 1)
	back0, _ := ce.host(t, "backend", 0)
	back1, _ := ce.host(t, "backend", 1)
	db1, _ := ce.host(t, "db", 1)
	client0, _ := ce.host(t, "client", 0)
	if frontPod0.Node == frontPod1.Node {
		t.Fatalf("the frontends share node %s", frontPod0.Node)
	}
	selected := map[string]cluster.Pod{
		frontPod0.Key() + "@" + frontPod0.Node: frontPod0,
		frontPod1.Key() + "@" + frontPod1.Node: frontPod1,
	}
	wantIfaces := slices.Sorted(func(yield func(string) bool) {
		for k := range selected {
			if !yield(k) {
				return
			}
		}
	})
	mustConn := func(c traffic.Conn, err error) traffic.Conn {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	t.Run("selected by label across nodes", func(t *testing.T) {
		run := ce.startCapture(t, "-n", "demo", "-l", "app=frontend", "--duration", "10s")
		run.waitStarted(t, "default/node1", "default/node2")
		want := []traffic.Conn{
			mustConn(traffic.TCPShort(ctx, front0, db1, traffic.IPv4)),
			mustConn(traffic.UDP(ctx, front0, db1, traffic.IPv6)),
			mustConn(traffic.TCPShort(ctx, front1, back0, traffic.IPv6)),
			mustConn(traffic.ICMP(ctx, back0, front1, traffic.IPv4, 2)),
		}
		others := []traffic.Conn{
			mustConn(traffic.TCPShort(ctx, back1, client0, traffic.IPv4)),
			mustConn(traffic.UDP(ctx, client0, back1, traffic.IPv4)),
		}
		run.wait(t, 30*time.Second)
		pkts := readCapture(t, run.out)
		t.Logf("%d packets on %v", len(pkts), interfaceNames(pkts))
		if got := interfaceNames(pkts); !slices.Equal(got, wantIfaces) {
			t.Errorf("interfaces %v, want the two frontends' %v", got, wantIfaces)
		}
		for _, p := range pkts {
			pod, ok := selected[p.iface]
			if !ok || !ownPacket(p, pod) {
				t.Errorf("packet %s is not its interface's pod's", p)
			}
		}
		for _, c := range want {
			// A cross-node conversation shows once on its pod's interface:
			// a request and an answer at least.
			if n := connPackets(pkts, c); n < 2 {
				t.Errorf("%d packets of %s, want its requests and replies", n, c)
			}
		}
		for _, c := range others {
			if n := connPackets(pkts, c); n != 0 {
				t.Errorf("%d packets of %s, which involves no selected pod", n, c)
			}
		}
		if !strings.Contains(run.stderr.String(), "END_REASON_DURATION") {
			t.Errorf("the nodes did not end on the duration:\n%s", run.stderr.String())
		}
		testCaptureDownload(t, ce, run, len(pkts))
	})

	t.Run("pcap filter", func(t *testing.T) {
		run := ce.startCapture(t, "-n", "demo", "-l", "app=frontend", "--duration", "6s", "-f", "udp port 5300")
		run.waitStarted(t, "default/node1", "default/node2")
		udp := mustConn(traffic.UDP(ctx, front0, back1, traffic.IPv4))
		tcp := mustConn(traffic.TCPShort(ctx, front0, back1, traffic.IPv4))
		icmp := mustConn(traffic.ICMP(ctx, front1, back0, traffic.IPv6, 2))
		run.wait(t, 30*time.Second)
		pkts := readCapture(t, run.out)
		t.Logf("%d packets passed the filter", len(pkts))
		for _, p := range pkts {
			if !p.udp || (p.sport != "5300" && p.dport != "5300") {
				t.Errorf("packet %s passed the filter udp port 5300", p)
			}
		}
		if connPackets(pkts, udp) < 2 || connPackets(pkts, tcp) != 0 || connPackets(pkts, icmp) != 0 {
			t.Errorf("packets of %s: %d, of %s: %d, of %s: %d; want only the UDP exchange",
				udp, connPackets(pkts, udp), tcp, connPackets(pkts, tcp), icmp, connPackets(pkts, icmp))
		}
	})

	t.Run("limits", func(t *testing.T) { testCaptureLimits(t, ce, front0, front1, back0, back1) })

	t.Run("ctrl-c stops every node and keeps what arrived", func(t *testing.T) {
		run := ce.startCapture(t, "-n", "demo", "-l", "app=frontend", "--duration", "60s")
		run.waitStarted(t, "default/node1", "default/node2")
		c := mustConn(traffic.TCPShort(ctx, front0, front1, traffic.IPv4))
		// The file has the exchange before the interrupt: packets are
		// written as they arrive.
		eventually(t, 10*time.Second, func() error {
			if n := connPackets(readCapture(t, run.out), c); n < 4 {
				return fmt.Errorf("%d packets of %s on disk", n, c)
			}
			return nil
		})
		if err := run.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if took := run.wait(t, 30*time.Second); took > 40*time.Second {
			t.Errorf("took %v", took)
		}
		if n := strings.Count(run.stderr.String(), "END_REASON_STOPPED"); n != 2 {
			t.Errorf("%d nodes ended as stopped, want 2:\n%s", n, run.stderr.String())
		}
		if n := connPackets(readCapture(t, run.out), c); n < 4 {
			t.Errorf("%d packets of %s after the interrupt", n, c)
		}
	})

	t.Run("invalid arguments name the field", func(t *testing.T) {
		for _, tc := range []struct {
			args  []string
			field string
		}{
			{[]string{"-l", "app in ("}, "selector.pod_selector"},
			{[]string{"-l", "app=frontend", "-f", "tcp port"}, "filter"},
			{[]string{"-l", "app=frontend", "--max-size", "10"}, "limits.max_bytes"},
			{[]string{"-l", "app=frontend", "--snap-length", "1"}, "limits.snap_length"},
			{[]string{"-l", "app=frontend", "--duration", "5h"}, "limits.duration"},
			{[]string{"--node-selector", "zone=a"}, "selector"},
		} {
			args := append([]string{"capture", "start", "--server", "unix://" + ce.relay, "-o", filepath.Join(t.TempDir(), "x.pcapng")}, tc.args...)
			out, err := exec.Command(ce.fovea, args...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "InvalidArgument") || !strings.Contains(string(out), "desc = "+tc.field+":") {
				t.Errorf("fovea %v: %v\n%s\nwant InvalidArgument naming %s", tc.args, err, out, tc.field)
			}
		}
	})

	t.Run("mTLS", func(t *testing.T) { testCaptureMTLS(t, ce) })
	// Last: the pod it adds is a frontend, which the others would select.
	t.Run("a deleted pod ends its capture", func(t *testing.T) { testCapturePodDeleted(t, ce) })
}

var startedPattern = regexp.MustCompile(`capture (\S+) started`)

// testCaptureDownload downloads the capture run made, as one pcapng and as
// a tar of one per node, and finds the packets it streamed.
func testCaptureDownload(t *testing.T, ce *captureEnv, run *captureRun, streamed int) {
	m := startedPattern.FindStringSubmatch(run.stderr.String())
	if m == nil {
		t.Fatalf("no capture id in:\n%s", run.stderr.String())
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "again.pcapng")
	if b, err := exec.Command(ce.fovea, "capture", "download", m[1], "--server", "unix://"+ce.relay, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("download: %v\n%s", err, b)
	}
	if got := len(readCapture(t, out)); got != streamed {
		t.Errorf("downloaded %d packets, streamed %d", got, streamed)
	}
	tarFile := filepath.Join(dir, "nodes.tar")
	if b, err := exec.Command(ce.fovea, "capture", "download", m[1], "--server", "unix://"+ce.relay, "-o", tarFile, "--tar").CombinedOutput(); err != nil {
		t.Fatalf("download --tar: %v\n%s", err, b)
	}
	if b, err := exec.Command("tar", "-C", dir, "-xf", tarFile).CombinedOutput(); err != nil {
		t.Fatalf("untar: %v\n%s", err, b)
	}
	total := 0
	for _, node := range []string{"node1", "node2"} {
		pkts := readCapture(t, filepath.Join(dir, "default_"+node+".pcapng"))
		for _, p := range pkts {
			if !strings.HasSuffix(p.iface, "@"+node) {
				t.Errorf("%s's file holds packet %s", node, p)
			}
		}
		total += len(pkts)
	}
	if total != streamed {
		t.Errorf("the nodes' files hold %d packets, the capture %d", total, streamed)
	}
}

// testCapturePodDeleted captures a pod added for it, then deletes the pod
// (its network namespace, so its veth, and its inventory entry): the
// capture ends, naming it.
func testCapturePodDeleted(t *testing.T, ce *captureEnv) {
	p, err := ce.cluster.AddPod(t.Context(), "node1")
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.WriteInventory(ce.inventory, demo.Inventory(ce.cluster.Topology)); err != nil {
		t.Fatal(err)
	}
	// The agent reads the inventory every 200 ms: until it has, the pod
	// is unknown and the capture NotFound.
	var run *captureRun
	eventually(t, 20*time.Second, func() error {
		run = ce.startCapture(t, "--pod", p.Key(), "--duration", "60s")
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case err := <-run.done:
				run.done <- err
				return fmt.Errorf("capture exited: %v\n%s", err, run.stderr.String())
			default:
			}
			if strings.Contains(run.stderr.String(), "default/node1: capture ") {
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		return fmt.Errorf("capture did not start:\n%s", run.stderr.String())
	})
	inv := demo.Inventory(ce.cluster.Topology)
	inv.Pods = slices.DeleteFunc(inv.Pods, func(ip inventory.Pod) bool { return ip.Namespace == p.Namespace && ip.Name == p.Name })
	if err := demo.WriteInventory(ce.inventory, inv); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("ip", "netns", "del", p.Netns).CombinedOutput(); err != nil {
		t.Fatalf("delete pod: %v\n%s", err, b)
	}
	run.wait(t, 20*time.Second)
	if out := run.stderr.String(); !strings.Contains(out, "END_REASON_PODS_DELETED") || !strings.Contains(out, p.Key()) {
		t.Errorf("the capture did not end saying %s was deleted:\n%s", p.Key(), out)
	}
}

func testCaptureLimits(t *testing.T, ce *captureEnv, front0, front1, back0, back1 traffic.Host) {
	ctx := context.Background()
	// Traffic of the frontends until the test ends.
	tctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stop()
		wg.Wait()
	}()
	wg.Go(func() {
		for tctx.Err() == nil {
			_, _ = traffic.ICMP(tctx, front0, back1, traffic.IPv4, 1)
			_, _ = traffic.TCPShort(tctx, back0, front1, traffic.IPv4)
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("duration", func(t *testing.T) {
		run := ce.startCapture(t, "-n", "demo", "-l", "app=frontend", "--duration", "2s")
		took := run.wait(t, 30*time.Second)
		// Two seconds from the nodes' start, plus starting and ending
		// (under 0.5 s on a quiet machine).
		if took < 2*time.Second || took > 10*time.Second {
			t.Errorf("a 2s capture took %v", took)
		}
		if n := strings.Count(run.stderr.String(), "END_REASON_DURATION"); n != 2 {
			t.Errorf("%d nodes ended on the duration:\n%s", n, run.stderr.String())
		}
	})

	t.Run("packets", func(t *testing.T) {
		run := ce.startCapture(t, "-n", "demo", "-l", "app=frontend", "--duration", "60s", "--max-packets", "5")
		took := run.wait(t, 30*time.Second)
		pkts := readCapture(t, run.out)
		if len(pkts) != 10 || took > 20*time.Second {
			t.Errorf("%d packets in %v, want 5 from each node, long before the duration", len(pkts), took)
		}
		if n := strings.Count(run.stderr.String(), "END_REASON_PACKETS"); n != 2 {
			t.Errorf("%d nodes ended on the packet limit:\n%s", n, run.stderr.String())
		}
	})

	t.Run("size", func(t *testing.T) {
		run := ce.startCapture(t, "-n", "demo", "-l", "app=frontend", "--duration", "60s", "--max-size", "8KiB", "--snap-length", "96")
		took := run.wait(t, 30*time.Second)
		if took > 20*time.Second {
			t.Errorf("took %v, long after the size limit", took)
		}
		if n := strings.Count(run.stderr.String(), "END_REASON_BYTES"); n != 2 {
			t.Errorf("%d nodes ended on the size limit:\n%s", n, run.stderr.String())
		}
		fi, err := os.Stat(run.out)
		if err != nil {
			t.Fatal(err)
		}
		// Each node's packets take at most 8 KiB; headers and interface
		// blocks a few hundred bytes more.
		if fi.Size() > 2*8192+2048 {
			t.Errorf("file of %d bytes, over the nodes' 8 KiB each", fi.Size())
		}
		for _, p := range readCapture(t, run.out) {
			if n, err := strconv.Atoi(p.frameBytes); err != nil || n > 96 {
				t.Errorf("packet %s keeps %s bytes, over the snap length 96", p, p.frameBytes)
			}
		}
	})
}

func testCaptureMTLS(t *testing.T, ce *captureEnv) {
	dir := t.TempDir()
	const relayName = "relay.fovea.test"
	serverCA, clientCA, otherCA := testca.New(t, "server CA"), testca.New(t, "client CA"), testca.New(t, "other CA")
	caFile := testca.WriteFile(t, dir, "ca.crt", serverCA.PEM)
	certFile, keyFile := serverCA.IssueFiles(t, dir, "relay", relayName)
	goodCert, goodKey := clientCA.IssueFiles(t, dir, "good", "fovea-cli")
	badCert, badKey := otherCA.IssueFiles(t, dir, "bad", "fovea-cli")
	if _, _, err := demo.StartRelay(ce.life, ce.cluster, ce.fovea, "relay-mtls",
		"--listen-address", ":4246", "--insecure=false", "--tls-cert-file", certFile, "--tls-key-file", keyFile,
		"--tls-client-ca-files", testca.WriteFile(t, dir, "client-ca.crt", clientCA.PEM)); err != nil {
		t.Fatal(err)
	}
	ns, err := ce.cluster.NodeNetns("node1")
	if err != nil {
		t.Fatal(err)
	}
	list := func(extra ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		args := append([]string{"capture", "list", "--server", "127.0.0.1:4246", "--tls-ca-cert-files", caFile, "--tls-server-name", relayName}, extra...)
		out, err := ns.Exec(ctx, ce.fovea, args...)
		return string(out), err
	}
	eventually(t, 15*time.Second, func() error {
		out, err := list("--tls-client-cert-file", goodCert, "--tls-client-key-file", goodKey)
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		// Earlier subtests' captures, as every node keeps them.
		if !strings.Contains(out, "default/node1") || !strings.Contains(out, "default/node2") {
			return fmt.Errorf("list over mTLS shows no node's captures:\n%s", out)
		}
		return nil
	})
	for name, extra := range map[string][]string{
		"no certificate":           nil,
		"an untrusted certificate": {"--tls-client-cert-file", badCert, "--tls-client-key-file", badKey},
	} {
		out, err := list(extra...)
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Errorf("a client with %s was not refused: %v\n%s", name, err, out)
		}
	}
}

// TestCaptureBridged captures a pod behind flannel's bridge, straight from
// its node's agent: the route to the pod leaves through cni0, and the
// pod's veth is the bridge port whose peer holds the address.
func TestCaptureBridged(t *testing.T) {
	e := setupOwn(t, cluster.Config{Prefix: "foveacapbr-", Nodes: 2, PodsPerNode: 2, Layout: cluster.LayoutFlannelVXLAN})
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Fatal("tshark is needed to read captures back: run scripts/install-deps.sh")
	}
	ce := &captureEnv{env: e, relay: e.sockets["node1"]} // startCapture's --server: node1's agent
	target, pod := ce.hosts[0], ce.cluster.Topology.Nodes[0].Pods[0]
	remote, local := ce.hosts[2], ce.hosts[1]
	run := ce.startCapture(t, "--pod", pod.Key(), "--duration", "5s", "-f", "icmp or icmp6")
	run.waitStarted(t, "default/node1")
	var conns []traffic.Conn
	for _, c := range []struct {
		src traffic.Host
		fam traffic.Family
	}{{remote, traffic.IPv4}, {remote, traffic.IPv6}, {local, traffic.IPv4}} {
		conn, err := traffic.ICMP(t.Context(), c.src, target, c.fam, 2)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
	}
	run.wait(t, 30*time.Second)
	pkts := readCapture(t, run.out)
	if got, want := interfaceNames(pkts), []string{pod.Key() + "@node1"}; !slices.Equal(got, want) {
		t.Errorf("interfaces %v, want %v", got, want)
	}
	for _, p := range pkts {
		if !p.icmp || !ownPacket(p, pod) {
			t.Errorf("packet %s is not the pod's ICMP", p)
		}
	}
	for _, c := range conns {
		if n := connPackets(pkts, c); n < 4 {
			t.Errorf("%d packets of %s, want its 2 echoes and replies", n, c)
		}
	}
}
