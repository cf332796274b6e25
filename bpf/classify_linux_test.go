//go:build linux

package bpf

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/foveanet/fovea/test/cluster"
)

// TestLinkFacts builds, in a namespace playing the node, one device of each
// kind classify tells apart and checks what netlink tells about them.
func TestLinkFacts(t *testing.T) {
	requireRoot(t)
	node := fmt.Sprintf("fovea-bpf-facts-node-%d", os.Getpid())
	pod := fmt.Sprintf("fovea-bpf-facts-pod-%d", os.Getpid())
	for _, ns := range []string{node, pod} {
		sh(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	for _, args := range [][]string{
		// A ptp-style pod veth: the gateway as a /32 is no subnet.
		{"link", "add", "fvcpod", "type", "veth", "peer", "name", "eth0", "netns", pod},
		{"addr", "add", "10.78.0.1/32", "dev", "fvcpod"},
		// A second network: a veth with an address on a subnet.
		{"link", "add", "fvcnet", "type", "veth", "peer", "name", "eth1", "netns", pod},
		{"addr", "add", "10.79.0.1/24", "dev", "fvcnet"},
		// A pair inside the node, as cilium_host and cilium_net.
		{"link", "add", "fvcin0", "type", "veth", "peer", "name", "fvcin1"},
		// The uplink bridge carrying the default route, and its port.
		{"link", "add", "fvcbr", "type", "bridge"},
		{"link", "add", "fvcport", "type", "veth", "peer", "name", "eth2", "netns", pod},
		{"link", "set", "fvcport", "master", "fvcbr"},
		{"addr", "add", "10.80.0.1/24", "dev", "fvcbr"},
		{"link", "set", "fvcbr", "up"},
		{"link", "set", "fvcport", "up"},
		{"route", "add", "default", "via", "10.80.0.254", "dev", "fvcbr"},
		// flannel's tunnel device.
		{"link", "add", "fvcvx", "type", "vxlan", "id", "1", "dstport", "8472", "nolearning"},
	} {
		sh(t, "ip", append([]string{"-n", node}, args...)...)
	}

	want := map[string]linkFacts{
		"fvcpod":  {name: "fvcpod", veth: true, peerElsewhere: true},
		"fvcnet":  {name: "fvcnet", veth: true, peerElsewhere: true, subnetAddr: true},
		"fvcin0":  {name: "fvcin0", veth: true},
		"fvcbr":   {name: "fvcbr", defaultRoute: true},
		"fvcport": {name: "fvcport", veth: true, peerElsewhere: true, uplinkPort: true},
		"fvcvx":   {name: "fvcvx", tunnel: true},
	}
	s := &Source{log: slog.New(slog.DiscardHandler)}
	err := cluster.NewNetns(node).Do(func() error {
		defaultRoute := s.defaultRouteLinks()
		for name, w := range want {
			l, err := netlink.LinkByName(name)
			if err != nil {
				return fmt.Errorf("find %s: %w", name, err)
			}
			if got := s.linkFacts(l, defaultRoute); got != w {
				t.Errorf("%s: facts %+v, want %+v", name, got, w)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
