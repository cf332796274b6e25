package cluster

import (
	"reflect"
	"strings"
	"testing"
)

func TestPlanDefaults(t *testing.T) {
	topo, err := Plan(Config{})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if len(topo.Nodes) != DefaultNodes {
		t.Fatalf("nodes = %d, want %d", len(topo.Nodes), DefaultNodes)
	}
	seen := map[string]bool{}
	namespaces := map[string]bool{}
	for _, p := range topo.Pods() {
		if seen[p.Key()] || seen[p.IPv4.String()] || seen[p.IPv6.String()] || seen[p.Netns] {
			t.Errorf("duplicate pod identity %+v", p)
		}
		seen[p.Key()], seen[p.IPv4.String()], seen[p.IPv6.String()], seen[p.Netns] = true, true, true, true
		namespaces[p.Namespace] = true
		if len(p.HostVeth) > maxLinkName || !strings.HasPrefix(p.HostVeth, "veth") {
			t.Errorf("host veth %q: want veth prefix and <= %d chars", p.HostVeth, maxLinkName)
		}
		node, _ := topo.Node(p.Node)
		if !node.PodCIDRv4.Contains(p.IPv4) || !node.PodCIDRv6.Contains(p.IPv6) {
			t.Errorf("pod %s %s/%s outside node %s CIDRs", p.Key(), p.IPv4, p.IPv6, node.Name)
		}
		if !strings.HasPrefix(p.Netns, DefaultPrefix) {
			t.Errorf("pod netns %q lacks prefix", p.Netns)
		}
	}
	if !namespaces["demo"] || !namespaces["default"] {
		t.Errorf("namespaces = %v, want demo and default", namespaces)
	}
	if got := topo.Nodes[1].IPv6.String(); got != "fd00:172:30::2" {
		t.Errorf("node2 IPv6 = %s", got)
	}
	if got := topo.Nodes[1].Pods[0].IPv4.String(); got != "10.244.2.11" {
		t.Errorf("node2 first pod IPv4 = %s", got)
	}
	if topo.Uplink != UplinkVeth || topo.Nodes[1].FabricPort != "node2" {
		t.Errorf("uplink %q, node2 fabric port %q; want %q and node2", topo.Uplink, topo.Nodes[1].FabricPort, UplinkVeth)
	}
}

func TestPlanMacvlanUplink(t *testing.T) {
	veth, err := Plan(Config{})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	mv, err := Plan(Config{Uplink: UplinkMacvlan})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if mv.Uplink != UplinkMacvlan {
		t.Errorf("Uplink = %q, want %q", mv.Uplink, UplinkMacvlan)
	}
	// Only the fabric side differs: names and addresses are those of the
	// veth layout.
	for i, n := range mv.Nodes {
		if n.FabricPort != MacvlanPort {
			t.Errorf("%s fabric port = %q, want %q", n.Name, n.FabricPort, MacvlanPort)
		}
		n.FabricPort = veth.Nodes[i].FabricPort
		if !reflect.DeepEqual(n, veth.Nodes[i]) {
			t.Errorf("macvlan node %+v differs from veth node %+v", n, veth.Nodes[i])
		}
	}
}

func TestPlanRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"Prefix":      {Prefix: "x"},
		"Nodes":       {Nodes: MaxNodes + 1},
		"PodsPerNode": {PodsPerNode: -1},
		"Uplink":      {Uplink: "ipvlan"},
	} {
		_, err := Plan(cfg)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want error naming the field", name, err)
		}
	}
}
