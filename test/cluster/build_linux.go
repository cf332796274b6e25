//go:build linux

package cluster

import (
	"context"
	"fmt"
	"net/netip"
)

// build creates namespaces first, then wires fabric → nodes → pods, because
// each step creates the links the next step configures.
func (c *Cluster) build(ctx context.Context) error {
	t := c.Topology
	all := []string{t.Fabric}
	for _, n := range t.Nodes {
		all = append(all, n.Netns)
		for _, p := range n.Pods {
			all = append(all, p.Netns)
		}
	}
	var add []string
	for _, name := range all {
		add = append(add, "netns add "+name)
	}
	if err := ipBatch(ctx, "", add); err != nil {
		return fmt.Errorf("create netns: %w", err)
	}
	for _, name := range all {
		if err := setSysctls(NewNetns(name), noDAD); err != nil {
			return err
		}
	}
	if err := ipBatch(ctx, t.Fabric, fabricCommands(t)); err != nil {
		return fmt.Errorf("configure fabric: %w", err)
	}
	for _, n := range t.Nodes {
		if err := c.buildNode(ctx, n); err != nil {
			return err
		}
	}
	return c.waitLinksUp(ctx, all)
}

func (c *Cluster) buildNode(ctx context.Context, n Node) error {
	ns := NewNetns(n.Netns)
	if err := setSysctls(ns, map[string]string{
		"net.ipv4.ip_forward":          "1",
		"net.ipv6.conf.all.forwarding": "1",
		"net.ipv4.conf.all.rp_filter":  "0",
	}); err != nil {
		return err
	}
	if err := ipBatch(ctx, n.Netns, nodeCommands(c.Topology, n)); err != nil {
		return fmt.Errorf("configure node %s: %w", n.Name, err)
	}
	if fdb := fdbCommands(c.Topology, n); len(fdb) > 0 {
		if err := bridgeBatch(ctx, n.Netns, fdb); err != nil {
			return fmt.Errorf("configure node %s: %w", n.Name, err)
		}
	}
	for _, p := range n.Pods {
		if err := configurePod(ctx, ns, n, p); err != nil {
			return err
		}
	}
	c.logger.Debug("node built", "node", n.Name, "netns", n.Netns, "pods", len(n.Pods))
	return nil
}

// noDAD makes addresses usable at once: DAD would hold IPv6 for a second or
// more after every link comes up.
var noDAD = map[string]string{
	"net.ipv6.conf.all.accept_dad":     "0",
	"net.ipv6.conf.default.accept_dad": "0",
}

func setSysctls(ns *Netns, values map[string]string) error {
	for k, v := range values {
		if err := ns.SetSysctl(k, v); err != nil {
			return err
		}
	}
	return nil
}

func fabricCommands(t Topology) []string {
	cmds := []string{
		"link set lo up",
		// Without snooping state the bridge floods IPv6 multicast, so
		// neighbour solicitations reach every node from the first packet.
		"link add " + BridgeInterface + " type bridge mcast_snooping 0",
		addrAdd(netip.PrefixFrom(GatewayV4, UnderlayV4.Bits()), BridgeInterface),
		addrAdd(netip.PrefixFrom(GatewayV6, UnderlayV6.Bits()), BridgeInterface),
		"link set " + BridgeInterface + " up",
	}
	return append(cmds, uplinkCommands(t)...)
}

func nodeCommands(t Topology, n Node) []string {
	cmds := []string{
		"link set lo up",
		addrAdd(netip.PrefixFrom(n.IPv4, UnderlayV4.Bits()), n.Interface),
		addrAdd(netip.PrefixFrom(n.IPv6, UnderlayV6.Bits()), n.Interface),
		"link set " + n.Interface + " up",
		fmt.Sprintf("route add 0.0.0.0/0 via %s dev %s", GatewayV4, n.Interface),
		fmt.Sprintf("route add ::/0 via %s dev %s", GatewayV6, n.Interface),
	}
	if n.Bridge == "" {
		// As Calico does for its blocks: unknown pod IPs of this node
		// are dropped here instead of bouncing off the default route.
		// A bridge's subnet route covers them.
		cmds = append(cmds,
			"route add blackhole "+n.PodCIDRv4.String(),
			"route add blackhole "+n.PodCIDRv6.String(),
		)
	} else {
		cmds = append(cmds, bridgeCommands(n)...)
	}
	cmds = append(cmds, tunnelCommands(n)...)
	for _, p := range n.Pods {
		cmds = append(cmds, hostVethCommands(n, p)...)
	}
	for _, other := range t.Nodes {
		if other.Name != n.Name {
			cmds = append(cmds, peerCommands(n, other)...)
		}
	}
	return cmds
}

// peerCommands route other's pod CIDRs: through the tunnels in an overlay
// layout, else via other's address on the underlay.
func peerCommands(n, other Node) []string {
	if len(n.Tunnels) > 0 {
		return tunnelPeerCommands(n, other)
	}
	return []string{
		fmt.Sprintf("route add %s via %s dev %s", other.PodCIDRv4, other.IPv4, n.Interface),
		fmt.Sprintf("route add %s via %s dev %s", other.PodCIDRv6, other.IPv6, n.Interface),
	}
}

func addrAdd(prefix netip.Prefix, dev string) string {
	cmd := fmt.Sprintf("addr add %s dev %s", prefix, dev)
	if prefix.Addr().Is6() {
		cmd += " nodad"
	}
	return cmd
}
