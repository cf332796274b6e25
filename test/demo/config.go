package demo

import "github.com/spf13/pflag"

// Config describes a demo run.
type Config struct {
	Nodes, PodsPerNode int
	// StateDir holds each node's agent socket and logs.
	StateDir string
	// Rate is new connections per second across the cluster.
	Rate float64
	// RingCapacity is passed to every agent.
	RingCapacity int
	// Agent is the fovea binary the agents run as.
	Agent string
	// Hubble, if set, is the hubble CLI to show every node's flows with,
	// through the relay; otherwise the demo prints how to connect and waits.
	Hubble string
}

// Flags registers the demo's flags, with their defaults, bound to c's
// fields; Agent is the caller's to set.
func (c *Config) Flags(fs *pflag.FlagSet) {
	fs.IntVar(&c.Nodes, "nodes", 2, "nodes (network namespaces) in the simulated cluster")
	fs.IntVar(&c.PodsPerNode, "pods-per-node", 2, "pods behind each node")
	fs.StringVar(&c.StateDir, "state-dir", "/run/fovea-demo", "directory for agent sockets and logs")
	fs.Float64Var(&c.Rate, "rate", 4, "new connections per second across the cluster")
	fs.IntVar(&c.RingCapacity, "ring-capacity", 65535, "ring capacity of every agent; one less than a power of two")
	fs.StringVar(&c.Hubble, "hubble", "", "hubble CLI to show the cluster's flows with, through the relay (hubble observe --follow)")
}
