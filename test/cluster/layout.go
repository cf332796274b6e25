package cluster

import (
	"fmt"
	"net"
	"net/netip"
)

// Layout is how nodes wire their pods and carry pod traffic to each other:
// the part of a node a CNI programs.
type Layout string

// Layouts, each with the devices and parameters its CNI programs; see
// test/README.md.
const (
	// LayoutRouted is Calico in BGP mode: pods routed as /32 and /128
	// behind their host veths, other nodes' pod CIDRs routed via their
	// node addresses on eth0, no tunnel.
	LayoutRouted Layout = "routed"
	// LayoutFlannelVXLAN is flannel's vxlan backend (k3s's default): pods'
	// host veths are ports of bridge cni0, which holds the pods' gateway;
	// other nodes' pods are reached through flannel.1 (VNI 1, UDP 8472)
	// and flannel-v6.1.
	LayoutFlannelVXLAN Layout = "flannel-vxlan"
	// LayoutCalicoVXLAN is Calico in VXLAN mode: pods as in LayoutRouted,
	// other nodes' pods reached through vxlan.calico (VNI 4096, UDP 4789)
	// and vxlan-v6.calico.
	LayoutCalicoVXLAN Layout = "calico-vxlan"
)

// Tunnel is a node's VXLAN device (its VTEP) in an overlay layout.
type Tunnel struct {
	Name string `json:"name"`
	VNI  uint32 `json:"vni"`
	// Port is the UDP destination port of the outer packets.
	Port uint16 `json:"port"`
	MTU  int    `json:"mtu"`
	// MAC is the device's address, which the other nodes' neighbour and
	// FDB entries for this node point at.
	MAC string `json:"mac"`
	// Addr is the device's own address (a /32 or /128 from the node's pod
	// CIDR): the other nodes' next hop to this node's pods.
	Addr netip.Addr `json:"addr"`
	// Local is the underlay address outer packets leave from, the node's
	// address of Addr's family on its Interface.
	Local netip.Addr `json:"local"`
}

// Device names and parameters the CNIs use (flannel's pkg/backend/vxlan,
// Calico's felix/dataplane/linux/vxlan_mgr.go).
const (
	// FlannelBridge is the bridge flannel's CNI configuration gives the
	// bridge plugin.
	FlannelBridge = "cni0"
	flannelVNI    = 1
	// flannelPort is the kernel's default VXLAN port, which flannel uses
	// unless configured, not IANA's 4789.
	flannelPort = 8472
	calicoVNI   = 4096
	calicoPort  = 4789
	// Tunnel MTUs: the underlay's 1500 less VXLAN's overhead over IPv4
	// (50) and IPv6 (70). Flannel asks 1450 for flannel-v6.1 too, which
	// the kernel lowers to 1430, the most an IPv6 VTEP on eth0 can have.
	vxlanMTUv4 = 1450
	vxlanMTUv6 = 1430
	// underlayMTU is every veth's MTU, and the routed layout's pods'.
	underlayMTU = 1500
)

// planLayout fills n's fields that depend on the layout: its pods' gateways
// and MTU, the bridge its pods' host veths are ports of, and its tunnels.
// index is the node's number, N in the addressing plan.
func planLayout(l Layout, n *Node, index int) {
	n.PodGatewayV4, n.PodGatewayV6, n.PodMTU = PodGatewayV4, PodGatewayV6, underlayMTU
	// The tunnel addresses are the first of the pod CIDRs, which no pod
	// gets: flannel's lease address, and Calico's first free address of
	// the block.
	tunnelV4, tunnelV6 := n.PodCIDRv4.Addr(), n.PodCIDRv6.Addr()
	switch l {
	case LayoutFlannelVXLAN:
		n.Bridge = FlannelBridge
		n.PodGatewayV4, n.PodGatewayV6 = tunnelV4.Next(), tunnelV6.Next()
		// Flannel gives pods its tunnel's MTU, the IPv4 one.
		n.PodMTU = vxlanMTUv4
		n.Tunnels = []Tunnel{
			planTunnel(fmt.Sprintf("flannel.%d", flannelVNI), flannelVNI, flannelPort, vxlanMTUv4, l, index, tunnelV4, n.IPv4),
			planTunnel(fmt.Sprintf("flannel-v6.%d", flannelVNI), flannelVNI, flannelPort, vxlanMTUv6, l, index, tunnelV6, n.IPv6),
		}
	case LayoutCalicoVXLAN:
		// Calico gives pods the smallest MTU of the encapsulations in
		// use, the IPv6 one.
		n.PodMTU = vxlanMTUv6
		// One VNI for both families, as felix configures them.
		n.Tunnels = []Tunnel{
			planTunnel("vxlan.calico", calicoVNI, calicoPort, vxlanMTUv4, l, index, tunnelV4, n.IPv4),
			planTunnel("vxlan-v6.calico", calicoVNI, calicoPort, vxlanMTUv6, l, index, tunnelV6, n.IPv6),
		}
	}
}

func planTunnel(name string, vni uint32, port uint16, mtu int, l Layout, index int, addr, local netip.Addr) Tunnel {
	return Tunnel{Name: name, VNI: vni, Port: port, MTU: mtu, MAC: vtepMAC(l, local, index), Addr: addr, Local: local}
}

// vtepMAC gives every VTEP its own locally administered unicast address,
// deterministic so that peers can be configured in one pass; the CNIs pick
// theirs at random and publish them (flannel in a node annotation, Calico
// in its Node resource).
func vtepMAC(l Layout, local netip.Addr, index int) string {
	family := byte(4)
	if local.Is6() {
		family = 6
	}
	kind := byte(1)
	if l == LayoutCalicoVXLAN {
		kind = 2
	}
	return net.HardwareAddr{0x0e, 0xf0, kind, 0, family, byte(index)}.String()
}
