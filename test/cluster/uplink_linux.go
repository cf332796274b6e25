//go:build linux

package cluster

import "fmt"

// uplinkCommands create every node's underlay interface (still down, it
// is configured by nodeCommands) and its way to the fabric bridge. They
// run in the fabric namespace after the bridge exists and create each
// Interface directly in its node's namespace, where it has its final name.
func uplinkCommands(t Topology) []string {
	if t.Uplink == UplinkMacvlan {
		return macvlanUplinkCommands(t)
	}
	var cmds []string
	for _, n := range t.Nodes {
		cmds = append(cmds,
			fmt.Sprintf("link add %s type veth peer name %s netns %s", n.FabricPort, n.Interface, n.Netns),
			fmt.Sprintf("link set %s master %s up", n.FabricPort, BridgeInterface),
		)
	}
	return cmds
}

// macvlanUplinkCommands hang every node's Interface off one lower veth whose
// peer is a bridge port. Bridge mode switches node-to-node traffic between
// the macvlans; the default VEPA mode would send it out the lower device
// and need the bridge to hairpin it back.
func macvlanUplinkCommands(t Topology) []string {
	cmds := []string{
		fmt.Sprintf("link add %s type veth peer name %s", MacvlanPort, macvlanLower),
		fmt.Sprintf("link set %s master %s up", MacvlanPort, BridgeInterface),
		// Without an address: the lower device only carries its
		// macvlans' frames.
		"link set " + macvlanLower + " up",
	}
	for _, n := range t.Nodes {
		cmds = append(cmds, fmt.Sprintf("link add link %s name %s netns %s type macvlan mode bridge", macvlanLower, n.Interface, n.Netns))
	}
	return cmds
}
