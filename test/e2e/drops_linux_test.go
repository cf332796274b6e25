//go:build linux

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/traffic"
)

// dropPorts are the ports the drop tests use, apart from every other test's.
const (
	filteredPort = 7101
	closedPort   = 7102
)

// dialFrom connects from h to addr and returns the dial (TCP) or the
// write (UDP) error, closing the connection either way.
func dialFrom(t *testing.T, h traffic.Host, network string, addr netip.AddrPort) error {
	t.Helper()
	var dialErr error
	err := h.Netns.Do(func() error {
		c, err := net.DialTimeout(network, addr.String(), 500*time.Millisecond)
		if err == nil {
			if network == "udp" {
				_, err = c.Write([]byte("x"))
			}
			_ = c.Close()
		}
		dialErr = err
		return nil
	})
	if err != nil {
		t.Fatalf("enter %s: %v", h.Name, err)
	}
	return dialErr
}

// nodeOf returns the node a pod runs on.
func (e *env) nodeOf(t *testing.T, h traffic.Host) cluster.Node {
	t.Helper()
	p, ok := e.cluster.Topology.Pod(h.Name)
	if !ok {
		t.Fatalf("no pod %s", h.Name)
	}
	n, _ := e.cluster.Topology.Node(p.Node)
	return n
}

// findDrop returns the DROPPED flow from src to dst:dport among flows.
func findDrop(flows []*flowpb.Flow, src, dst netip.Addr, dport uint16, l4 string) *flowpb.Flow {
	for _, f := range flows {
		_, dp := ports(f)
		if f.GetVerdict() == flowpb.Verdict_DROPPED && f.GetIP().GetSource() == src.String() &&
			f.GetIP().GetDestination() == dst.String() && dp == dport && strings.HasPrefix(f.GetSummary(), l4) {
			return f
		}
	}
	return nil
}

// TestDrops checks that packets the kernel drops on a node — in the node's
// namespace or a pod's on it — show up with `hubble observe --verdict
// DROPPED` on that node's agent, with the Hubble reason and the kernel's
// own reason, and on no other node's.
func TestDrops(t *testing.T) {
	e := setup(t)
	src, srcSock := e.pod(0)
	dst, dstSock := e.pod(2)
	srcNode, dstNode := e.nodeOf(t, src), e.nodeOf(t, dst)
	if srcNode.Name == dstNode.Name {
		t.Fatalf("pods 0 and 2 share node %s; the test needs them apart", srcNode.Name)
	}

	// A firewall rule on the destination node drops forwarded traffic.
	ns, err := e.cluster.NodeNetns(dstNode.Name)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rule := []string{"FORWARD", "-d", dst.IPv4.String(), "-p", "tcp", "--dport", strconv.Itoa(filteredPort), "-j", "DROP"}
	if out, err := ns.Exec(ctx, "iptables", append([]string{"-I"}, rule...)...); err != nil {
		t.Fatalf("add rule: %v\n%s", err, out)
	}
	defer func() { _, _ = ns.Exec(context.Background(), "iptables", append([]string{"-D"}, rule...)...) }()

	if err := dialFrom(t, src, "tcp", netip.AddrPortFrom(dst.IPv4, filteredPort)); err == nil {
		t.Fatal("dial through the DROP rule succeeded")
	}
	// Nothing listens on the source node itself: the SYN is refused and
	// the UDP datagram dropped there.
	nodeAddr := netip.AddrPortFrom(srcNode.IPv4, closedPort)
	if err := dialFrom(t, src, "tcp", nodeAddr); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", nodeAddr, err)
	}
	_ = dialFrom(t, src, "udp", nodeAddr)
	// Nor in the destination pod: refused in the pod's own namespace.
	podAddr := netip.AddrPortFrom(dst.IPv4, closedPort)
	if err := dialFrom(t, src, "tcp", podAddr); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", podAddr, err)
	}

	for _, w := range []struct {
		name         string
		sock, other  string
		dst          netip.Addr
		dport        uint16
		l4           string
		reason       flowpb.DropReason
		kernelReason string
	}{
		{"netfilter", dstSock, srcSock, dst.IPv4, filteredPort, "TCP Flags: SYN", flowpb.DropReason_POLICY_DENIED, "NETFILTER_DROP"},
		{"tcp no socket", srcSock, dstSock, srcNode.IPv4, closedPort, "TCP Flags: SYN", flowpb.DropReason_SOCKET_LOOKUP_FAILED, "NO_SOCKET"},
		{"udp no socket", srcSock, dstSock, srcNode.IPv4, closedPort, "UDP", flowpb.DropReason_SOCKET_LOOKUP_FAILED, "NO_SOCKET"},
		{"no socket in a pod", dstSock, srcSock, dst.IPv4, closedPort, "TCP Flags: SYN", flowpb.DropReason_SOCKET_LOOKUP_FAILED, "NO_SOCKET"},
	} {
		t.Run(w.name, func(t *testing.T) {
			args := []string{"--last", "100000", "--verdict", "DROPPED", "--ip", src.IPv4.String()}
			eventually(t, 10*time.Second, func() error {
				f := findDrop(e.observeJSON(t, w.sock, args...), src.IPv4, w.dst, w.dport, w.l4)
				if f == nil {
					return fmt.Errorf("no DROPPED flow %s -> %s:%d", src.IPv4, w.dst, w.dport)
				}
				if f.GetDropReasonDesc() != w.reason || f.GetEventType().GetType() != 1 || f.GetEventType().GetSubType() != int32(w.reason) {
					return fmt.Errorf("drop reason %v, event type %v; want %v", f.GetDropReasonDesc(), f.GetEventType(), w.reason)
				}
				if want := w.l4 + "; kernel drop reason: " + w.kernelReason; f.GetSummary() != want {
					return fmt.Errorf("summary %q, want %q", f.GetSummary(), want)
				}
				return nil
			})
			if w.other == w.sock {
				return
			}
			if f := findDrop(e.observeJSON(t, w.other, args...), src.IPv4, w.dst, w.dport, w.l4); f != nil {
				t.Errorf("drop on %s also reported by another node's agent: %v", f.GetNodeName(), f)
			}
		})
	}

	// The refused connection's reset reaches the pod and is traced.
	eventually(t, 10*time.Second, func() error {
		for _, f := range e.observeJSON(t, srcSock, "--last", "100000", "--ip", srcNode.IPv4.String(), "--tcp-flags", "RST") {
			if sp, _ := ports(f); sp == closedPort && f.GetVerdict() == flowpb.Verdict_FORWARDED {
				return nil
			}
		}
		return errors.New("no RST from the node's closed port")
	})
}

// TestRetransmissions checks that segments a node's own stack retransmits
// show up on that node's agent as `--type trace:from-stack` flows with a
// "TCP Retransmission" summary: the node sends lines to a pod that drops a
// third of what it receives.
func TestRetransmissions(t *testing.T) {
	e := setup(t)
	dst, sock := e.pod(1)
	node := e.nodeOf(t, dst)
	podNS, err := e.cluster.PodNetns(dst.Name)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rule := []string{"INPUT", "-p", "tcp", "--dport", strconv.Itoa(int(traffic.TCPPort)),
		"-m", "statistic", "--mode", "random", "--probability", "0.3", "-j", "DROP"}
	if out, err := podNS.Exec(ctx, "iptables", append([]string{"-I"}, rule...)...); err != nil {
		t.Fatalf("add rule: %v\n%s", err, out)
	}
	defer func() { _, _ = podNS.Exec(context.Background(), "iptables", append([]string{"-D"}, rule...)...) }()

	nodeNS, err := e.cluster.NodeNetns(node.Name)
	if err != nil {
		t.Fatal(err)
	}
	var sport uint16
	err = nodeNS.Do(func() error {
		c, err := net.DialTimeout("tcp", netip.AddrPortFrom(dst.IPv4, traffic.TCPPort).String(), 10*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		sport = uint16(c.LocalAddr().(*net.TCPAddr).Port)
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		line := strings.Repeat("x", 1000) + "\n"
		for range 200 {
			if _, err := c.Write([]byte(line)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("transfer from node %s: %v", node.Name, err)
	}
	eventually(t, 20*time.Second, func() error {
		flows := e.observeJSON(t, sock, "--last", "100000", "--type", "trace:from-stack", "--to-ip", dst.IPv4.String())
		for _, f := range flows {
			if sp, dp := ports(f); sp == sport && dp == traffic.TCPPort && strings.HasPrefix(f.GetSummary(), "TCP Retransmission, Flags: ") {
				return nil
			}
		}
		return fmt.Errorf("no retransmission flow from port %d among %d from-stack flows", sport, len(flows))
	})
}
