package cluster

import (
	"fmt"
	"log/slog"
	"regexp"
)

// Defaults for Config fields left zero.
const (
	DefaultPrefix      = "foveademo-"
	DefaultNodes       = 2
	DefaultPodsPerNode = 2
	DefaultStateDir    = "/run/fovea-demo"
)

// Limits keep every generated address inside its /24 and every name short.
const (
	MaxNodes       = 200
	MaxPodsPerNode = 200
)

// prefixPattern is strict on purpose: Cleanup deletes every namespace whose
// name starts with the prefix, so an empty or generic prefix would be unsafe.
var prefixPattern = regexp.MustCompile(`^[a-z][a-z0-9]{2,15}-$`)

// Config describes the cluster to build.
type Config struct {
	// Prefix starts every namespace name, e.g. "foveademo-" gives
	// "foveademo-node1". Lowercase letters and digits ending in '-', 4–17 chars.
	Prefix string
	// Nodes is the number of node namespaces.
	Nodes int
	// PodsPerNode is the number of pod namespaces behind each node.
	PodsPerNode int
	// StateDir holds per-node directories for process logs and sockets.
	StateDir string
	// Uplink is the link type of every node's underlay interface;
	// UplinkVeth if empty.
	Uplink Uplink
	// Layout is how nodes wire their pods and reach each other's;
	// LayoutRouted if empty.
	Layout Layout
	// Logger receives progress and cleanup messages.
	Logger *slog.Logger
}

// Uplink is the link type of a node's underlay interface (eth0), so that
// nodes whose default-route device is a veth and nodes whose is not can
// both be built.
type Uplink string

// Uplink kinds.
const (
	// UplinkVeth makes eth0 a veth whose peer is a port of the fabric
	// bridge, one port per node (kind nodes are wired alike).
	UplinkVeth Uplink = "veth"
	// UplinkMacvlan makes eth0 a bridge-mode macvlan of one lower veth in
	// the fabric namespace, whose peer is a port of the fabric bridge:
	// node-to-node traffic goes macvlan to macvlan, traffic to the gateway
	// through the lower device.
	UplinkMacvlan Uplink = "macvlan"
)

// withDefaults returns c with zero fields replaced by defaults.
func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Nodes == 0 {
		c.Nodes = DefaultNodes
	}
	if c.PodsPerNode == 0 {
		c.PodsPerNode = DefaultPodsPerNode
	}
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.Uplink == "" {
		c.Uplink = UplinkVeth
	}
	if c.Layout == "" {
		c.Layout = LayoutRouted
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first field that cannot be used.
func (c Config) Validate() error {
	if err := ValidatePrefix(c.Prefix); err != nil {
		return err
	}
	if c.Nodes < 1 || c.Nodes > MaxNodes {
		return fmt.Errorf("invalid Nodes %d: want 1..%d", c.Nodes, MaxNodes)
	}
	if c.PodsPerNode < 1 || c.PodsPerNode > MaxPodsPerNode {
		return fmt.Errorf("invalid PodsPerNode %d: want 1..%d", c.PodsPerNode, MaxPodsPerNode)
	}
	if c.StateDir == "" {
		return fmt.Errorf("invalid StateDir: empty")
	}
	if c.Uplink != UplinkVeth && c.Uplink != UplinkMacvlan {
		return fmt.Errorf("invalid Uplink %q: want %q or %q", c.Uplink, UplinkVeth, UplinkMacvlan)
	}
	if c.Layout != LayoutRouted && c.Layout != LayoutFlannelVXLAN && c.Layout != LayoutCalicoVXLAN {
		return fmt.Errorf("invalid Layout %q: want %q, %q or %q", c.Layout, LayoutRouted, LayoutFlannelVXLAN, LayoutCalicoVXLAN)
	}
	return nil
}

// ValidatePrefix reports whether prefix is safe to create and clean up by.
func ValidatePrefix(prefix string) error {
	if !prefixPattern.MatchString(prefix) {
		return fmt.Errorf("invalid Prefix %q: want %s", prefix, prefixPattern)
	}
	return nil
}
