// Package cluster builds a small Kubernetes-like cluster out of Linux network
// namespaces so the agent can be demonstrated and tested end to end without a
// real Kubernetes: a "fabric" namespace holding the underlay bridge, N "node"
// namespaces attached to it, and per node several "pod" namespaces wired the
// way a CNI wires them (Config.Layout): by default as Calico in BGP mode (a
// /32 and /128 per pod behind a host-side veth, a link-local default gateway
// answered by proxy ARP and a link-local address on the host veth, and
// node-to-node routes for the other nodes' pod CIDRs), or as flannel's or
// Calico's VXLAN overlay, with the devices and entries those CNIs program.
//
// The package owns the addressing plan and names (Plan, Topology), running
// code and commands inside a namespace (Netns.Do, Netns.Exec), long-running
// processes started inside a namespace (Netns.Start), and finding and
// removing everything a previous run left behind (Cleanup). Every namespace
// name starts with a caller-chosen prefix; all links live inside those
// namespaces, so deleting them removes the links too.
//
// The builder is Linux-only; the topology description is portable so other
// packages can describe the same cluster on any platform.
package cluster
