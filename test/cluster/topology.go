package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
)

// Fixed parts of the addressing plan; see test/README.md.
var (
	// UnderlayV4 and UnderlayV6 hold the node addresses (".N" for node N)
	// and the fabric gateway.
	UnderlayV4 = netip.MustParsePrefix("172.30.0.0/24")
	UnderlayV6 = netip.MustParsePrefix("fd00:172:30::/64")
	// GatewayV4 and GatewayV6 sit on the fabric bridge; nodes use them as
	// default gateway so the underlay interface carries the default route.
	GatewayV4 = netip.MustParseAddr("172.30.0.254")
	GatewayV6 = netip.MustParseAddr("fd00:172:30::254")
	// PodGatewayV4 and PodGatewayV6 are every pod's next hop in the
	// routed and Calico layouts: the node answers for the first by proxy
	// ARP and owns the second on each host veth, as Calico does.
	PodGatewayV4 = netip.MustParseAddr("169.254.1.1")
	PodGatewayV6 = netip.MustParseAddr("fe80::1")
)

// Interface names inside the namespaces.
const (
	// UnderlayInterface is the node's link to the fabric and its
	// default-route device.
	UnderlayInterface = "eth0"
	// PodInterface is the pod side of the pod's veth pair.
	PodInterface = "eth0"
	// BridgeInterface is the underlay bridge inside the fabric namespace.
	BridgeInterface = "br0"
	// MacvlanPort is, with UplinkMacvlan, the one fabric bridge port all
	// nodes' macvlans share.
	MacvlanPort = "macvlan-port"
	// macvlanLower is MacvlanPort's veth peer, the macvlans' lower device.
	macvlanLower = "macvlan-lower"
	// hostVethPrefix matches the agent's default "all host-side veths".
	hostVethPrefix = "veth"
	// maxLinkName is IFNAMSIZ minus the terminating NUL.
	maxLinkName = 15
)

// Topology describes a built (or planned) cluster.
type Topology struct {
	Prefix string `json:"prefix"`
	// Fabric is the namespace holding the underlay bridge.
	Fabric string `json:"fabric"`
	// Uplink is the link type of every node's Interface.
	Uplink Uplink `json:"uplink"`
	// Layout is how nodes wire their pods and reach each other's.
	Layout Layout `json:"layout"`
	Nodes  []Node `json:"nodes"`
}

// Node is one node namespace.
type Node struct {
	Name string `json:"name"`
	// Netns is the network namespace name (see `ip netns list`).
	Netns string `json:"netns"`
	// Interface is the underlay interface inside Netns.
	Interface string `json:"interface"`
	// FabricPort is the fabric bridge port Interface's traffic to the
	// gateway enters by: its veth peer, or MacvlanPort with UplinkMacvlan.
	FabricPort string       `json:"fabric_port"`
	IPv4       netip.Addr   `json:"ipv4"`
	IPv6       netip.Addr   `json:"ipv6"`
	PodCIDRv4  netip.Prefix `json:"pod_cidr_v4"`
	PodCIDRv6  netip.Prefix `json:"pod_cidr_v6"`
	// PodGatewayV4 and PodGatewayV6 are the next hop of the node's pods.
	PodGatewayV4 netip.Addr `json:"pod_gateway_v4"`
	PodGatewayV6 netip.Addr `json:"pod_gateway_v6"`
	// PodMTU is the MTU of the node's pod veths, both ends.
	PodMTU int `json:"pod_mtu"`
	// Bridge is the bridge the pods' host veths are ports of, holding the
	// pod gateways (flannel's cni0); empty when pods are routed.
	Bridge string `json:"bridge,omitempty"`
	// Tunnels are the node's VXLAN devices, IPv4's then IPv6's, in an
	// overlay layout; none in the routed one.
	Tunnels []Tunnel `json:"tunnels,omitempty"`
	Pods    []Pod    `json:"pods"`
}

// Pod is one pod namespace.
type Pod struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels"`
	// Node is the name of the node the pod runs on.
	Node string `json:"node"`
	// Netns is the pod's network namespace name.
	Netns string `json:"netns"`
	// Interface is the pod side of the veth pair, inside Netns.
	Interface string `json:"interface"`
	// HostVeth is the node side of the veth pair, inside the node's Netns.
	HostVeth string     `json:"host_veth"`
	IPv4     netip.Addr `json:"ipv4"`
	IPv6     netip.Addr `json:"ipv6"`
}

// Key returns "namespace/name", the form Kubernetes and Hubble print.
func (p Pod) Key() string { return p.Namespace + "/" + p.Name }

// Pods returns every pod of every node, in node order.
func (t Topology) Pods() []Pod {
	var pods []Pod
	for _, n := range t.Nodes {
		pods = append(pods, n.Pods...)
	}
	return pods
}

// Node returns the node named name.
func (t Topology) Node(name string) (Node, bool) {
	for _, n := range t.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// Pod returns the pod whose Key is key.
func (t Topology) Pod(key string) (Pod, bool) {
	for _, p := range t.Pods() {
		if p.Key() == key {
			return p, true
		}
	}
	return Pod{}, false
}

// podTemplate is a workload pods are spread over, round-robin across nodes,
// so a 2×2 cluster has every workload once and traffic crosses nodes.
type podTemplate struct {
	namespace string
	app       string
	tier      string
}

var podTemplates = []podTemplate{
	{namespace: "demo", app: "frontend", tier: "web"},
	{namespace: "demo", app: "backend", tier: "api"},
	{namespace: "demo", app: "db", tier: "data"},
	{namespace: "default", app: "client", tier: "tools"},
}

// Plan computes the topology cfg describes without touching the system.
func Plan(cfg Config) (Topology, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return Topology{}, err
	}
	t := Topology{Prefix: cfg.Prefix, Fabric: cfg.Prefix + "fabric", Uplink: cfg.Uplink, Layout: cfg.Layout}
	for i := 1; i <= cfg.Nodes; i++ {
		node := Node{
			Name:       fmt.Sprintf("node%d", i),
			Interface:  UnderlayInterface,
			FabricPort: fmt.Sprintf("node%d", i),
			IPv4:       netip.AddrFrom4([4]byte{172, 30, 0, byte(i)}),
			// Decimal digits reused as hex groups keep v4 and v6 plans
			// readable side by side (node 12 is ...::12 and 10.244.12.0).
			IPv6:      netip.MustParseAddr(fmt.Sprintf("fd00:172:30::%d", i)),
			PodCIDRv4: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 244, byte(i), 0}), 24),
			PodCIDRv6: netip.MustParsePrefix(fmt.Sprintf("fd00:10:244:%d::/64", i)),
		}
		node.Netns = cfg.Prefix + node.Name
		if cfg.Uplink == UplinkMacvlan {
			node.FabricPort = MacvlanPort
		}
		planLayout(cfg.Layout, &node, i)
		for j := 1; j <= cfg.PodsPerNode; j++ {
			global := (i-1)*cfg.PodsPerNode + (j - 1)
			node.Pods = append(node.Pods, planPod(cfg.Prefix, node, j, global))
		}
		t.Nodes = append(t.Nodes, node)
	}
	return t, nil
}

func planPod(prefix string, node Node, index, global int) Pod {
	tmpl := podTemplates[global%len(podTemplates)]
	replica := global / len(podTemplates)
	host := 10 + index
	p := Pod{
		Name:      podName(tmpl.app, replica),
		Namespace: tmpl.namespace,
		Labels: map[string]string{
			"app":               tmpl.app,
			"tier":              tmpl.tier,
			"pod-template-hash": templateHash(tmpl.app),
		},
		Node:      node.Name,
		Netns:     fmt.Sprintf("%s%s-pod%d", prefix, node.Name, index),
		Interface: PodInterface,
		IPv4:      netip.AddrFrom4([4]byte{10, 244, node.PodCIDRv4.Addr().As4()[2], byte(host)}),
		IPv6:      netip.MustParseAddr(fmt.Sprintf("%s%d", node.PodCIDRv6.Addr(), host)),
	}
	p.HostVeth = hostVethName(p.Namespace, p.Name)
	return p
}

// k8sAlphabet is the alphabet Kubernetes uses for generated name suffixes.
const k8sAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// podName gives Deployment-style names (app-<template hash>-<suffix>),
// deterministic so tests and docs can name pods.
func podName(app string, replica int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", app, replica))
	suffix := make([]byte, 5)
	for i := range suffix {
		suffix[i] = k8sAlphabet[int(sum[i])%len(k8sAlphabet)]
	}
	return app + "-" + templateHash(app) + "-" + string(suffix)
}

func templateHash(app string) string {
	sum := sha256.Sum256([]byte("template/" + app))
	hash := make([]byte, 10)
	for i := range hash {
		hash[i] = k8sAlphabet[int(sum[i])%len(k8sAlphabet)]
	}
	return string(hash)
}

// hostVethName derives the host-side name from the pod identity, as CNIs
// do, so it is stable across runs and fits IFNAMSIZ.
func hostVethName(namespace, name string) string {
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	return (hostVethPrefix + hex.EncodeToString(sum[:]))[:maxLinkName]
}
