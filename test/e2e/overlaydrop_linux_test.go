//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/test/traffic"
)

// tunnelDropPort is the port of the connection whose tunnel packets are
// dropped, apart from every other test's.
const tunnelDropPort = 7103

// testOverlayTunnelDrop has node2 drop the VXLAN packets node1 sends while
// a pod on node1 tries to connect to a pod on node2, and wants node2's
// agent to report the drop as the pods' flow inside the tunnel (with the
// inner port, POLICY_DENIED for the kernel's NETFILTER_DROP), and no drop
// between the node addresses on the tunnel port.
func testOverlayTunnelDrop(t *testing.T, e *env) {
	src, dst := e.hosts[0], e.hosts[2]
	a, _ := e.cluster.Topology.Pod(src.Name)
	b, _ := e.cluster.Topology.Pod(dst.Name)
	q := overlayQuery{e: e, fam: traffic.IPv4, a: a, b: b}
	ns, err := e.cluster.NodeNetns(b.Node)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	rule := []string{"INPUT", "-s", q.nodeAddr(a.Node).String(), "-p", "udp",
		"--dport", strconv.Itoa(int(q.tunnel(b.Node).Port)), "-j", "DROP"}
	if out, err := ns.Exec(ctx, "iptables", append([]string{"-I"}, rule...)...); err != nil {
		t.Fatalf("add rule: %v\n%s", err, out)
	}
	// The rest of TestOverlay shares the cluster: the rule lasts for the
	// connection attempt only, and goes even if the test fails first.
	remove := sync.OnceFunc(func() {
		if out, err := ns.Exec(context.Background(), "iptables", append([]string{"-D"}, rule...)...); err != nil {
			t.Errorf("remove rule: %v\n%s", err, out)
		}
	})
	t.Cleanup(remove)
	start := time.Now()
	if err := dialFrom(t, src, "tcp", netip.AddrPortFrom(dst.IPv4, tunnelDropPort)); err == nil {
		t.Fatal("dial through the dropped tunnel succeeded")
	}
	remove()

	args := []string{"--last", "100000", "--since", start.Add(-time.Second).Format(time.RFC3339Nano), "--verdict", "DROPPED"}
	var flows []*flowpb.Flow
	eventually(t, 20*time.Second, func() error {
		flows = e.observeJSON(t, e.sockets[b.Node], args...)
		f := findDrop(flows, src.IPv4, dst.IPv4, tunnelDropPort, "TCP Flags: SYN")
		if f == nil {
			return fmt.Errorf("no DROPPED flow %s -> %s:%d among:%s", src.IPv4, dst.IPv4, tunnelDropPort, describe(flows))
		}
		if f.GetDropReasonDesc() != flowpb.DropReason_POLICY_DENIED {
			return fmt.Errorf("drop reason %v, want POLICY_DENIED", f.GetDropReasonDesc())
		}
		if want := "TCP Flags: SYN; kernel drop reason: NETFILTER_DROP"; f.GetSummary() != want {
			return fmt.Errorf("summary %q, want %q", f.GetSummary(), want)
		}
		return checkPods(f, a, b)
	})
	nodeAddrs := map[string]bool{}
	for _, n := range e.cluster.Topology.Nodes {
		nodeAddrs[n.IPv4.String()], nodeAddrs[n.IPv6.String()] = true, true
	}
	for _, f := range flows {
		sp, dp := ports(f)
		if (nodeAddrs[f.GetIP().GetSource()] || nodeAddrs[f.GetIP().GetDestination()]) && isVXLANPort(sp, dp) {
			t.Errorf("a drop between node addresses on a VXLAN port:%s", describe([]*flowpb.Flow{f}))
		}
	}
}
