//go:build linux

package cluster

import (
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMacvlanUplink builds nodes whose eth0 is a macvlan and checks that
// everything the veth layout offers still works: pods reach pods on other
// nodes, nodes reach the gateway, and nothing is left once it is closed.
func TestMacvlanUplink(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	// Registered first, so it runs after the cluster is closed: a macvlan
	// whose namespace went away must go too, not move to the root one.
	before := rootMacvlans(t)
	t.Cleanup(func() {
		if after := rootMacvlans(t); after != before {
			t.Errorf("root namespace macvlans after close:\n%s\nwant as before:\n%s", after, before)
		}
	})
	c := buildCluster(t, Config{Uplink: UplinkMacvlan})
	if c.Topology.Uplink != UplinkMacvlan {
		t.Errorf("Topology.Uplink = %q, want %q", c.Topology.Uplink, UplinkMacvlan)
	}
	for _, n := range c.Topology.Nodes {
		ns := NewNetns(n.Netns)
		out, err := ns.Exec(t.Context(), "ip", "-o", "-d", "link", "show", "dev", n.Interface)
		if err != nil || !strings.Contains(string(out), " macvlan mode bridge ") {
			t.Errorf("%s %s: %q, %v; want a bridge-mode macvlan", n.Name, n.Interface, out, err)
		}
		out, err = ns.Exec(t.Context(), "ip", "-o", "route", "show", "default")
		if err != nil || !strings.Contains(string(out), "dev "+n.Interface) {
			t.Errorf("%s default route = %q, %v; want via %s", n.Name, out, err, n.Interface)
		}
		for _, gw := range []netip.Addr{GatewayV4, GatewayV6} {
			if out, err := ns.Exec(t.Context(), "ping", "-c", "1", "-W", "2", gw.String()); err != nil {
				t.Errorf("ping %s -> gateway %s: %v\n%s", n.Name, gw, err, out)
			}
		}
	}
	// Both ways, since each node's macvlan must both send to and receive
	// from its sibling.
	a, b := c.Topology.Nodes[0].Pods[0], c.Topology.Nodes[1].Pods[1]
	for _, pair := range [][2]Pod{{a, b}, {b, a}} {
		src, dst := pair[0], pair[1]
		for _, addr := range []netip.Addr{dst.IPv4, dst.IPv6} {
			if out, err := NewNetns(src.Netns).Exec(t.Context(), "ping", "-c", "1", "-W", "2", addr.String()); err != nil {
				t.Errorf("ping %s (%s) -> %s (%s): %v\n%s", src.Key(), src.Node, addr, dst.Node, err, out)
			}
		}
	}
}

// rootMacvlans lists the macvlans of the root namespace.
func rootMacvlans(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ip", "-o", "link", "show", "type", "macvlan").CombinedOutput()
	if err != nil {
		t.Fatalf("ip link show type macvlan: %v: %s", err, out)
	}
	return string(out)
}
