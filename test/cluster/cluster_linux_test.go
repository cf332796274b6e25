//go:build linux

package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testPrefix differs from other test packages' so `go test ./test/...`
// can build clusters in parallel.
const testPrefix = "fvtcluster-"

func buildTestCluster(t *testing.T) *Cluster {
	t.Helper()
	return buildCluster(t, Config{})
}

// buildCluster builds cfg with the package's prefix, state directory and
// logger, and removes it when t ends.
func buildCluster(t *testing.T, cfg Config) *Cluster {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	ctx := t.Context()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := Cleanup(ctx, testPrefix, logger); err != nil {
		t.Fatalf("Cleanup before build: %v", err)
	}
	cfg.Prefix, cfg.StateDir, cfg.Logger = testPrefix, t.TempDir(), logger
	c, err := Build(ctx, cfg)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
		assertNothingLeft(t, testPrefix)
	})
	return c
}

func assertNothingLeft(t *testing.T, prefix string) {
	t.Helper()
	for _, args := range [][]string{{"netns", "list"}, {"-o", "link", "show"}} {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
		if strings.Contains(string(out), prefix) {
			t.Errorf("ip %v still shows %q:\n%s", args, prefix, out)
		}
	}
}

func TestClusterReachability(t *testing.T) {
	c := buildTestCluster(t)
	pods := c.Topology.Pods()
	var wg sync.WaitGroup
	for _, src := range pods {
		for _, dst := range pods {
			if src.Key() == dst.Key() {
				continue
			}
			for _, addr := range []netip.Addr{dst.IPv4, dst.IPv6} {
				wg.Go(func() {
					ns := NewNetns(src.Netns)
					if out, err := ns.Exec(t.Context(), "ping", "-c", "1", "-W", "2", addr.String()); err != nil {
						t.Errorf("ping %s (%s) -> %s (%s): %v\n%s", src.Key(), src.Node, dst.Key(), dst.Node, err, out)
					}
				})
			}
		}
	}
	wg.Wait()
}

func TestClusterTCPAcrossNodes(t *testing.T) {
	c := buildTestCluster(t)
	src, dst := c.Topology.Nodes[0].Pods[0], c.Topology.Nodes[1].Pods[0]
	for _, pair := range [][2]netip.Addr{{src.IPv4, dst.IPv4}, {src.IPv6, dst.IPv6}} {
		t.Run(pair[1].String(), func(t *testing.T) {
			var ln net.Listener
			err := NewNetns(dst.Netns).Do(func() error {
				var err error
				ln, err = net.Listen("tcp", netip.AddrPortFrom(pair[1], 0).String())
				return err
			})
			if err != nil {
				t.Fatalf("listen in %s: %v", dst.Netns, err)
			}
			defer ln.Close()
			accepted := make(chan string, 1)
			go func() {
				conn, err := ln.Accept()
				if err != nil {
					accepted <- err.Error()
					return
				}
				defer conn.Close()
				accepted <- conn.RemoteAddr().String()
				_, _ = io.Copy(conn, conn)
			}()
			var conn net.Conn
			err = NewNetns(src.Netns).Do(func() error {
				var err error
				d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(pair[0], 0))}
				conn, err = d.Dial("tcp", ln.Addr().String())
				return err
			})
			if err != nil {
				t.Fatalf("dial from %s: %v", src.Netns, err)
			}
			defer conn.Close()
			if got, want := <-accepted, conn.LocalAddr().String(); got != want {
				t.Errorf("server saw peer %s, want %s (no NAT on the path)", got, want)
			}
			if _, err := conn.Write([]byte("ping")); err != nil {
				t.Fatalf("write: %v", err)
			}
			buf := make([]byte, 4)
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "ping" {
				t.Fatalf("echo = %q, %v", buf, err)
			}
		})
	}
}

func TestClusterLayout(t *testing.T) {
	c := buildTestCluster(t)
	node := c.Topology.Nodes[0]
	ns, err := c.NodeNetns(node.Name)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ns.Exec(t.Context(), "ip", "-o", "route", "show", "default")
	if err != nil || !strings.Contains(string(out), "dev "+UnderlayInterface) {
		t.Errorf("node default route = %q, %v; want via %s", out, err, UnderlayInterface)
	}
	for _, p := range node.Pods {
		out, err := ns.Exec(t.Context(), "ip", "-o", "link", "show", p.HostVeth)
		if err != nil || !strings.Contains(string(out), "state UP") {
			t.Errorf("host veth %s: %q, %v", p.HostVeth, out, err)
		}
	}
	pod := node.Pods[0]
	pns, err := c.PodNetns(pod.Key())
	if err != nil {
		t.Fatal(err)
	}
	out, err = pns.Exec(t.Context(), "ip", "-o", "addr", "show", "dev", PodInterface)
	if err != nil || !strings.Contains(string(out), pod.IPv4.String()+"/32") || !strings.Contains(string(out), pod.IPv6.String()+"/128") {
		t.Errorf("pod addresses = %q, %v", out, err)
	}
	if _, err := c.PodNetns("nope/nope"); err == nil {
		t.Error("PodNetns(unknown) succeeded")
	}
}

func TestDoRestoresNamespace(t *testing.T) {
	c := buildTestCluster(t)
	ns, err := c.NodeNetns(c.Topology.Nodes[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, _ := os.Readlink("/proc/thread-self/ns/net")
	want, _ := os.Stat(ns.Path())
	var inside string
	if err := ns.Do(func() error {
		var err error
		inside, err = os.Readlink("/proc/thread-self/ns/net")
		return err
	}); err != nil {
		t.Fatalf("Do: %v", err)
	}
	wantIno := want.Sys().(*syscall.Stat_t).Ino
	if inside != fmt.Sprintf("net:[%d]", wantIno) {
		t.Errorf("inside Do: netns %s, want net:[%d]", inside, wantIno)
	}
	if after, _ := os.Readlink("/proc/thread-self/ns/net"); after != before {
		t.Errorf("after Do: netns %s, want %s restored", after, before)
	}
	if err := NewNetns(testPrefix + "missing").Do(func() error { return nil }); err == nil {
		t.Error("Do in a missing namespace succeeded")
	}
}

func TestClusterProcess(t *testing.T) {
	c := buildTestCluster(t)
	node := c.Topology.Nodes[1]
	p, err := c.StartProcess(t.Context(), node.Name, ProcessSpec{
		Name: "sleeper",
		Path: "/bin/sh",
		Args: []string{"-c", "ip -o addr show dev eth0; exec sleep 60"},
	})
	if err != nil {
		t.Fatalf("StartProcess: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := os.ReadFile(p.StdoutPath)
		if strings.Contains(string(out), node.IPv4.String()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("process output %q lacks node address %s", out, node.IPv4)
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if err := p.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Stop took %s, want SIGTERM to end sleep at once", d)
	}
	if err := syscall.Kill(p.Pid, 0); err == nil {
		t.Errorf("process %d still alive after Stop", p.Pid)
	}
}

func TestCleanupKillsLeftovers(t *testing.T) {
	c := buildTestCluster(t)
	pod := c.Topology.Nodes[0].Pods[1]
	// Started outside the Cluster's tracking, as after a crashed run.
	p, err := NewNetns(pod.Netns).Start(context.Background(), ProcessSpec{
		Name: "orphan", Path: "sleep", Args: []string{"60"}, LogDir: t.TempDir(),
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	waitForNetnsPid(t, pod.Netns, p.Pid)
	if err := Cleanup(t.Context(), testPrefix, nil); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("process %d survived Cleanup", p.Pid)
	}
	assertNothingLeft(t, testPrefix)
}

// waitForNetnsPid waits until `ip netns exec` has exec'd the program, so
// the pid is inside the namespace.
func waitForNetnsPid(t *testing.T, netns string, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := exec.Command("ip", "netns", "pids", netns).Output()
		if slices.Contains(strings.Fields(string(out)), strconv.Itoa(pid)) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("pid %d never appeared in netns %s", pid, netns)
}
