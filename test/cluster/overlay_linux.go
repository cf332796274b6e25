//go:build linux

package cluster

import (
	"fmt"
	"net/netip"
)

// tunnelCommands create n's VXLAN devices as flanneld and felix do: a
// fixed VNI and port, the node's underlay address as source, learning off
// (the other nodes' VTEPs are programmed, never learnt), and the device's
// own address as a single host, so it adds no subnet route.
func tunnelCommands(n Node) []string {
	var cmds []string
	for _, tun := range n.Tunnels {
		cmds = append(cmds,
			fmt.Sprintf("link add %s mtu %d address %s type vxlan id %d local %s dev %s dstport %d nolearning",
				tun.Name, tun.MTU, tun.MAC, tun.VNI, tun.Local, n.Interface, tun.Port),
			addrAdd(netip.PrefixFrom(tun.Addr, tun.Addr.BitLen()), tun.Name),
			"link set "+tun.Name+" up",
		)
	}
	return cmds
}

// tunnelPeerCommands route other's pod CIDRs through n's tunnels as both
// CNIs do: via other's tunnel address, on link since no subnet holds it,
// with a permanent neighbour entry giving that address other's VTEP MAC
// (so no ARP or neighbour discovery crosses the tunnel). Tunnels pair up by
// family: n.Tunnels[i] and other.Tunnels[i].
func tunnelPeerCommands(n, other Node) []string {
	var cmds []string
	for i, tun := range n.Tunnels {
		peer := other.Tunnels[i]
		cidr := other.PodCIDRv4
		if peer.Addr.Is6() {
			cidr = other.PodCIDRv6
		}
		cmds = append(cmds,
			fmt.Sprintf("route add %s via %s dev %s onlink", cidr, peer.Addr, tun.Name),
			fmt.Sprintf("neigh replace %s lladdr %s dev %s nud permanent", peer.Addr, peer.MAC, tun.Name),
		)
	}
	return cmds
}

// fdbCommands (for the bridge tool) send frames for each other node's VTEP
// MAC to that node's underlay address: the forwarding entries flanneld and
// felix write (NTF_SELF, permanent) in place of learning.
func fdbCommands(t Topology, n Node) []string {
	var cmds []string
	for _, other := range t.Nodes {
		if other.Name == n.Name {
			continue
		}
		for i, tun := range n.Tunnels {
			peer := other.Tunnels[i]
			cmds = append(cmds, fmt.Sprintf("fdb replace %s dev %s dst %s self permanent", peer.MAC, tun.Name, peer.Local))
		}
	}
	return cmds
}

// bridgeCommands create the bridge pods' host veths are ports of, holding
// their gateways on the pod CIDRs, as the CNI bridge plugin does for
// flannel.
func bridgeCommands(n Node) []string {
	return []string{
		fmt.Sprintf("link add %s mtu %d type bridge", n.Bridge, n.PodMTU),
		addrAdd(netip.PrefixFrom(n.PodGatewayV4, n.PodCIDRv4.Bits()), n.Bridge),
		addrAdd(netip.PrefixFrom(n.PodGatewayV6, n.PodCIDRv6.Bits()), n.Bridge),
		"link set " + n.Bridge + " up",
	}
}
