package demo

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
