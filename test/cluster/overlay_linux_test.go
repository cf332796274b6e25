//go:build linux

package cluster

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestOverlayLayouts builds each overlay layout and checks that its VXLAN
// devices, routes, neighbour and FDB entries are the ones the CNI programs,
// read back from the kernel, and that pods reach pods on the other node,
// both ways and over both families, through the tunnels.
func TestOverlayLayouts(t *testing.T) {
	for _, l := range []Layout{LayoutFlannelVXLAN, LayoutCalicoVXLAN} {
		t.Run(string(l), func(t *testing.T) {
			c := buildCluster(t, Config{Layout: l})
			if c.Topology.Layout != l {
				t.Errorf("Topology.Layout = %q, want %q", c.Topology.Layout, l)
			}
			for _, n := range c.Topology.Nodes {
				checkTunnels(t, c.Topology, n)
				checkPodWiring(t, n)
			}
			checkAcrossTunnels(t, c)
			// A pod added later is wired like the others.
			p, err := c.AddPod(t.Context(), "node1")
			if err != nil {
				t.Fatal(err)
			}
			other := c.Topology.Nodes[1].Pods[0]
			for _, addr := range []netip.Addr{other.IPv4, other.IPv6} {
				if out, err := NewNetns(p.Netns).Exec(t.Context(), "ping", "-c", "1", "-W", "2", addr.String()); err != nil {
					t.Errorf("ping %s -> %s: %v\n%s", p.Key(), addr, err, out)
				}
			}
		})
	}
}

// inNode runs fn in n's namespace, failing t on error.
func inNode(t *testing.T, n Node, fn func() error) {
	t.Helper()
	if err := NewNetns(n.Netns).Do(fn); err != nil {
		t.Errorf("%s: %v", n.Name, err)
	}
}

// checkTunnels reads n's VXLAN devices and what points at the other nodes
// through them.
func checkTunnels(t *testing.T, topo Topology, n Node) {
	t.Helper()
	if len(n.Tunnels) != 2 {
		t.Fatalf("%s tunnels = %+v, want an IPv4 and an IPv6 one", n.Name, n.Tunnels)
	}
	inNode(t, n, func() error {
		uplink, err := netlink.LinkByName(n.Interface)
		if err != nil {
			return fmt.Errorf("read %s: %w", n.Interface, err)
		}
		for _, tun := range n.Tunnels {
			link, err := netlink.LinkByName(tun.Name)
			if err != nil {
				return fmt.Errorf("read %s: %w", tun.Name, err)
			}
			vx, ok := link.(*netlink.Vxlan)
			if !ok {
				return fmt.Errorf("%s is a %s, want vxlan", tun.Name, link.Type())
			}
			local, _ := netip.AddrFromSlice(vx.SrcAddr)
			if got := fmt.Sprintf("id %d port %d learning %v local %s dev %d mtu %d mac %s up %v",
				vx.VxlanId, vx.Port, vx.Learning, local.Unmap(), vx.VtepDevIndex, vx.MTU, vx.HardwareAddr, vx.Flags&net.FlagUp != 0); got !=
				fmt.Sprintf("id %d port %d learning false local %s dev %d mtu %d mac %s up true",
					tun.VNI, tun.Port, tun.Local, uplink.Attrs().Index, tun.MTU, tun.MAC) {
				t.Errorf("%s %s: %s; want %+v on %s", n.Name, tun.Name, got, tun, n.Interface)
			}
			checkTunnelAddr(t, n, link, tun)
			for _, other := range topo.Nodes {
				if other.Name != n.Name {
					checkPeer(t, n, link, tun, other)
				}
			}
		}
		return nil
	})
}

func checkTunnelAddr(t *testing.T, n Node, link netlink.Link, tun Tunnel) {
	t.Helper()
	addrs, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		t.Errorf("%s: list %s addresses: %v", n.Name, tun.Name, err)
		return
	}
	want := netip.PrefixFrom(tun.Addr, tun.Addr.BitLen())
	if !slices.ContainsFunc(addrs, func(a netlink.Addr) bool { return prefixOf(a.IPNet) == want }) {
		t.Errorf("%s %s addresses %v lack %s", n.Name, tun.Name, addrs, want)
	}
}

// checkPeer checks the route, neighbour and FDB entry that send n's
// packets for other's pods of tun's family to other's VTEP.
func checkPeer(t *testing.T, n Node, link netlink.Link, tun Tunnel, other Node) {
	t.Helper()
	var peer Tunnel
	for _, p := range other.Tunnels {
		if p.Name == tun.Name {
			peer = p
		}
	}
	cidr := other.PodCIDRv4
	if tun.Addr.Is6() {
		cidr = other.PodCIDRv6
	}
	routes, err := netlink.RouteListFiltered(familyOf(tun.Addr), &netlink.Route{Dst: ipNet(cidr)}, netlink.RT_FILTER_DST)
	if err != nil {
		t.Errorf("%s: list routes to %s: %v", n.Name, cidr, err)
		return
	}
	if len(routes) != 1 || routes[0].LinkIndex != link.Attrs().Index || !routes[0].Gw.Equal(peer.Addr.AsSlice()) || routes[0].Flags&unix.RTNH_F_ONLINK == 0 {
		t.Errorf("%s routes to %s: %v; want one via %s dev %s onlink", n.Name, cidr, routes, peer.Addr, tun.Name)
	}
	neighs, err := netlink.NeighList(link.Attrs().Index, familyOf(tun.Addr))
	if err != nil {
		t.Errorf("%s: list %s neighbours: %v", n.Name, tun.Name, err)
		return
	}
	if !slices.ContainsFunc(neighs, func(nb netlink.Neigh) bool {
		return nb.IP.Equal(peer.Addr.AsSlice()) && nb.HardwareAddr.String() == peer.MAC && nb.State&netlink.NUD_PERMANENT != 0
	}) {
		t.Errorf("%s %s neighbours %v lack %s lladdr %s permanent", n.Name, tun.Name, neighs, peer.Addr, peer.MAC)
	}
	fdb, err := netlink.NeighList(link.Attrs().Index, unix.AF_BRIDGE)
	if err != nil {
		t.Errorf("%s: list %s FDB: %v", n.Name, tun.Name, err)
		return
	}
	if !slices.ContainsFunc(fdb, func(nb netlink.Neigh) bool {
		return nb.HardwareAddr.String() == peer.MAC && nb.IP.Equal(peer.Local.AsSlice()) &&
			nb.State&netlink.NUD_PERMANENT != 0 && nb.Flags&netlink.NTF_SELF != 0
	}) {
		t.Errorf("%s %s FDB %v lacks %s dst %s self permanent", n.Name, tun.Name, fdb, peer.MAC, peer.Local)
	}
}

// checkPodWiring checks where n's pods' host veths and gateways are, and
// that no pod CIDR is routed over the underlay.
func checkPodWiring(t *testing.T, n Node) {
	t.Helper()
	inNode(t, n, func() error {
		for _, p := range n.Pods {
			link, err := netlink.LinkByName(p.HostVeth)
			if err != nil {
				return fmt.Errorf("read %s: %w", p.HostVeth, err)
			}
			master := ""
			if i := link.Attrs().MasterIndex; i > 0 {
				if m, err := netlink.LinkByIndex(i); err == nil {
					master = m.Attrs().Name
				}
			}
			if master != n.Bridge || link.Attrs().MTU != n.PodMTU {
				t.Errorf("%s %s: master %q mtu %d, want %q and %d", n.Name, p.HostVeth, master, link.Attrs().MTU, n.Bridge, n.PodMTU)
			}
		}
		uplink, err := netlink.LinkByName(n.Interface)
		if err != nil {
			return fmt.Errorf("read %s: %w", n.Interface, err)
		}
		routes, err := netlink.RouteList(uplink, netlink.FAMILY_ALL)
		if err != nil {
			return fmt.Errorf("list %s routes: %w", n.Interface, err)
		}
		for _, r := range routes {
			if r.Dst != nil && (podCIDRs.Contains(prefixOf(r.Dst).Addr()) || podCIDRsV6.Contains(prefixOf(r.Dst).Addr())) {
				t.Errorf("%s routes pods over the underlay: %v", n.Name, r)
			}
		}
		return nil
	})
	if n.Bridge == "" {
		return
	}
	inNode(t, n, func() error {
		bridge, err := netlink.LinkByName(n.Bridge)
		if err != nil {
			return fmt.Errorf("read %s: %w", n.Bridge, err)
		}
		addrs, err := netlink.AddrList(bridge, netlink.FAMILY_ALL)
		if err != nil {
			return fmt.Errorf("list %s addresses: %w", n.Bridge, err)
		}
		for _, want := range []netip.Prefix{
			netip.PrefixFrom(n.PodGatewayV4, n.PodCIDRv4.Bits()), netip.PrefixFrom(n.PodGatewayV6, n.PodCIDRv6.Bits()),
		} {
			if !slices.ContainsFunc(addrs, func(a netlink.Addr) bool { return prefixOf(a.IPNet) == want }) {
				t.Errorf("%s %s addresses %v lack %s", n.Name, n.Bridge, addrs, want)
			}
		}
		return nil
	})
}

// Every pod CIDR of the addressing plan.
var (
	podCIDRs   = netip.MustParsePrefix("10.244.0.0/16")
	podCIDRsV6 = netip.MustParsePrefix("fd00:10:244::/48")
)

// checkAcrossTunnels pings between a pod of each node, both ways and over
// both families, and checks that each ping left through the sender's
// tunnel of its family and arrived through the receiver's.
func checkAcrossTunnels(t *testing.T, c *Cluster) {
	t.Helper()
	n1, n2 := c.Topology.Nodes[0], c.Topology.Nodes[1]
	a, b := n1.Pods[0], n2.Pods[1]
	for _, hop := range []struct {
		src, dst   Pod
		from, into Node
	}{{a, b, n1, n2}, {b, a, n2, n1}} {
		for i, addr := range []netip.Addr{hop.dst.IPv4, hop.dst.IPv6} {
			tx, rx := hop.from.Tunnels[i], hop.into.Tunnels[i]
			sent, received := tunnelStats(t, hop.from, tx.Name).TxPackets, tunnelStats(t, hop.into, rx.Name).RxPackets
			if out, err := NewNetns(hop.src.Netns).Exec(t.Context(), "ping", "-c", "1", "-W", "2", addr.String()); err != nil {
				t.Errorf("ping %s (%s) -> %s (%s): %v\n%s", hop.src.Key(), hop.src.Node, addr, hop.dst.Node, err, out)
				continue
			}
			if now := tunnelStats(t, hop.from, tx.Name).TxPackets; now == sent {
				t.Errorf("ping %s -> %s: %s %s sent nothing", hop.src.Key(), addr, hop.from.Name, tx.Name)
			}
			if now := tunnelStats(t, hop.into, rx.Name).RxPackets; now == received {
				t.Errorf("ping %s -> %s: %s %s received nothing", hop.src.Key(), addr, hop.into.Name, rx.Name)
			}
		}
	}
}

func tunnelStats(t *testing.T, n Node, name string) netlink.LinkStatistics {
	t.Helper()
	var stats netlink.LinkStatistics
	inNode(t, n, func() error {
		link, err := netlink.LinkByName(name)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		stats = *link.Attrs().Statistics
		return nil
	})
	return stats
}

func familyOf(a netip.Addr) int {
	if a.Is4() {
		return netlink.FAMILY_V4
	}
	return netlink.FAMILY_V6
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func prefixOf(n *net.IPNet) netip.Prefix {
	addr, _ := netip.AddrFromSlice(n.IP)
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(addr.Unmap(), ones)
}
