package cluster

import (
	"net/netip"
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
	if topo.Layout != LayoutRouted || topo.Nodes[1].Bridge != "" || len(topo.Nodes[1].Tunnels) != 0 || topo.Nodes[1].PodGatewayV4 != PodGatewayV4 {
		t.Errorf("layout %q, node2 %+v; want %q: no bridge, no tunnel, gateway %s", topo.Layout, topo.Nodes[1], LayoutRouted, PodGatewayV4)
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
		"Layout":      {Layout: "geneve"},
	} {
		_, err := Plan(cfg)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want error naming the field", name, err)
		}
	}
}

func TestPlanOverlayLayouts(t *testing.T) {
	routed, err := Plan(Config{})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	for l, want := range map[Layout]struct {
		bridge, gw4, gw6 string
		mtu              int
		tunnels          []Tunnel
	}{
		LayoutFlannelVXLAN: {"cni0", "10.244.2.1", "fd00:10:244:2::1", 1450, []Tunnel{
			{Name: "flannel.1", VNI: 1, Port: 8472, MTU: 1450, MAC: "0e:f0:01:00:04:02",
				Addr: netip.MustParseAddr("10.244.2.0"), Local: netip.MustParseAddr("172.30.0.2")},
			{Name: "flannel-v6.1", VNI: 1, Port: 8472, MTU: 1430, MAC: "0e:f0:01:00:06:02",
				Addr: netip.MustParseAddr("fd00:10:244:2::"), Local: netip.MustParseAddr("fd00:172:30::2")},
		}},
		LayoutCalicoVXLAN: {"", "169.254.1.1", "fe80::1", 1430, []Tunnel{
			{Name: "vxlan.calico", VNI: 4096, Port: 4789, MTU: 1450, MAC: "0e:f0:02:00:04:02",
				Addr: netip.MustParseAddr("10.244.2.0"), Local: netip.MustParseAddr("172.30.0.2")},
			{Name: "vxlan-v6.calico", VNI: 4096, Port: 4789, MTU: 1430, MAC: "0e:f0:02:00:06:02",
				Addr: netip.MustParseAddr("fd00:10:244:2::"), Local: netip.MustParseAddr("fd00:172:30::2")},
		}},
	} {
		topo, err := Plan(Config{Layout: l})
		if err != nil {
			t.Fatalf("Plan(%s): %v", l, err)
		}
		n := topo.Nodes[1]
		if topo.Layout != l || n.Bridge != want.bridge || n.PodGatewayV4.String() != want.gw4 ||
			n.PodGatewayV6.String() != want.gw6 || n.PodMTU != want.mtu || !reflect.DeepEqual(n.Tunnels, want.tunnels) {
			t.Errorf("%s: layout %q node2 %+v; want %+v", l, topo.Layout, n, want)
		}
		// Pods keep the routed layout's names and addresses.
		if !reflect.DeepEqual(topo.Pods(), routed.Pods()) {
			t.Errorf("%s pods %+v differ from the routed layout's %+v", l, topo.Pods(), routed.Pods())
		}
	}
}
