//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/test/cluster"
)

// snatPort is the world port TestSNAT connects to, apart from every other
// test's.
const snatPort = 7201

// TestSNAT has a node masquerade its pod's connection to the world (the
// fabric's gateway, outside every pod CIDR), as nodes do for pods talking
// to the internet: `hubble observe --snat-ip <node address>` on that node
// finds the flow leaving the uplink, with the pod as its source.
func TestSNAT(t *testing.T) {
	e := setup(t)
	src, sock := e.pod(0)
	node := e.nodeOf(t, src)
	nodeNS := cluster.NewNetns(node.Netns)
	world := netip.AddrPortFrom(cluster.GatewayV4, snatPort)

	rule := []string{"POSTROUTING", "-s", src.IPv4.String(), "-d", world.Addr().String(),
		"-p", "tcp", "--dport", strconv.Itoa(snatPort), "-j", "MASQUERADE"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := nodeNS.Exec(ctx, "iptables", append([]string{"-t", "nat", "-A"}, rule...)...); err != nil {
		t.Fatalf("add masquerade rule: %v: %s", err, out)
	}
	t.Cleanup(func() {
		_, _ = nodeNS.Exec(context.Background(), "iptables", append([]string{"-t", "nat", "-D"}, rule...)...)
	})

	var l net.Listener
	if err := cluster.NewNetns(e.cluster.Topology.Fabric).Do(func() error {
		var err error
		l, err = net.Listen("tcp", world.String())
		return err
	}); err != nil {
		t.Fatalf("listen in the world: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()

	since := time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
	if err := dialFrom(t, src, "tcp", world); err != nil {
		t.Fatalf("dial the world from %s: %v", src.Name, err)
	}
	eventually(t, 20*time.Second, func() error {
		flows := e.observeJSON(t, sock, "--snat-ip", node.IPv4.String(), "--to-port", strconv.Itoa(snatPort), "--since", since)
		for _, f := range flows {
			if f.GetIP().GetSource() == src.IPv4.String() && f.GetIP().GetSourceXlated() == node.IPv4.String() &&
				f.GetIP().GetDestination() == world.Addr().String() &&
				f.GetTraceObservationPoint() == flowpb.TraceObservationPoint_TO_NETWORK &&
				f.GetSource().GetPodName() != "" && f.GetInterface().GetName() == cluster.UnderlayInterface {
				return nil
			}
		}
		return fmt.Errorf("no flow from %s translated to %s among %d: %s", src.IPv4, node.IPv4, len(flows), describe(flows))
	})
}
