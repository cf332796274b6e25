//go:build linux

package cluster

import (
	"context"
	"fmt"
	"net/netip"
)

// configurePod sets the node side of p's veth (which must exist) and the
// pod's own addresses and routes.
func configurePod(ctx context.Context, node *Netns, n Node, p Pod) error {
	// Proxy ARP answers the pod's ARP for PodGatewayV4, which no interface
	// owns, with the host veth's MAC. proxy_delay 0 because proxy replies
	// are otherwise held back a random time up to 0.8 s, stalling every
	// pod's first packet. A bridge owns its pods' gateway instead.
	if n.Bridge == "" {
		if err := setSysctls(node, map[string]string{
			"net.ipv4.conf." + p.HostVeth + ".proxy_arp":    "1",
			"net.ipv4.neigh." + p.HostVeth + ".proxy_delay": "0",
		}); err != nil {
			return err
		}
	}
	if err := ipBatch(ctx, p.Netns, podCommands(n, p)); err != nil {
		return fmt.Errorf("configure pod %s: %w", p.Key(), err)
	}
	return nil
}

// hostVethCommands create p's veth pair from the node and connect p: as a
// port of the node's bridge (with hairpin, as flannel's CNI configuration
// asks), or routed to its host veth.
func hostVethCommands(n Node, p Pod) []string {
	cmds := []string{
		fmt.Sprintf("link add %s mtu %d type veth peer name %s mtu %d netns %s", p.HostVeth, n.PodMTU, p.Interface, n.PodMTU, p.Netns),
	}
	if n.Bridge != "" {
		return append(cmds,
			fmt.Sprintf("link set %s master %s", p.HostVeth, n.Bridge),
			fmt.Sprintf("link set %s type bridge_slave hairpin on", p.HostVeth),
			"link set "+p.HostVeth+" up",
		)
	}
	return append(cmds,
		"link set "+p.HostVeth+" up",
		addrAdd(netip.PrefixFrom(n.PodGatewayV6, 64), p.HostVeth),
		fmt.Sprintf("route add %s dev %s scope link", netip.PrefixFrom(p.IPv4, 32), p.HostVeth),
		fmt.Sprintf("route add %s dev %s", netip.PrefixFrom(p.IPv6, 128), p.HostVeth),
	)
}

// podCommands address p: on its node's pod subnets behind a bridge, else as
// a single host whose gateway is only reachable on its link.
func podCommands(n Node, p Pod) []string {
	cmds := []string{"link set lo up"}
	if n.Bridge != "" {
		return append(cmds,
			addrAdd(netip.PrefixFrom(p.IPv4, n.PodCIDRv4.Bits()), p.Interface),
			addrAdd(netip.PrefixFrom(p.IPv6, n.PodCIDRv6.Bits()), p.Interface),
			"link set "+p.Interface+" up",
			fmt.Sprintf("route add 0.0.0.0/0 via %s dev %s", n.PodGatewayV4, p.Interface),
			fmt.Sprintf("route add ::/0 via %s dev %s", n.PodGatewayV6, p.Interface),
		)
	}
	return append(cmds,
		addrAdd(netip.PrefixFrom(p.IPv4, 32), p.Interface),
		addrAdd(netip.PrefixFrom(p.IPv6, 128), p.Interface),
		"link set "+p.Interface+" up",
		fmt.Sprintf("route add %s dev %s scope link", n.PodGatewayV4, p.Interface),
		fmt.Sprintf("route add 0.0.0.0/0 via %s dev %s", n.PodGatewayV4, p.Interface),
		fmt.Sprintf("route add ::/0 via %s dev %s", n.PodGatewayV6, p.Interface),
	)
}
