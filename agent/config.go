package agent

import (
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/foveanet/fovea/api/server"
)

// Config is everything an agent needs to run.
type Config struct {
	// NodeName names the node in every flow and in the peer service.
	NodeName string
	// ClusterName is the Kubernetes cluster the node belongs to.
	ClusterName string
	// RingCapacity is how many events the agent keeps: 2^n-1, as Hubble.
	RingCapacity int
	// Interfaces are name globs of the interfaces to observe; empty means
	// every host-side veth plus the default-route device.
	Interfaces []string
	// DNSPorts are the TCP and UDP ports whose payload is parsed as DNS.
	DNSPorts []uint
	// DisableDrops and DisableRetransmissions turn off reporting packets
	// the kernel drops and TCP retransmissions.
	DisableDrops, DisableRetransmissions bool
	// MetricsAddress is where /metrics is served; empty disables it.
	MetricsAddress string
	// LocalAddrsRefresh is how often the node's own addresses are re-read.
	LocalAddrsRefresh time.Duration
	// Version is reported by ServerStatus, GetNodes and flow emitters.
	Version string
	Server  server.Config
}

// Validate reports the first invalid setting, named as its flag.
func (c *Config) Validate() error {
	if c.NodeName == "" {
		return errors.New("--node-name: must not be empty")
	}
	if n := c.RingCapacity; n < 1 || n&(n+1) != 0 {
		return fmt.Errorf("--ring-capacity: %d is not one less than a power of two (1, 3, 7, …, 4095, …)", n)
	}
	for _, g := range c.Interfaces {
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("--interfaces: bad glob %q: %w", g, err)
		}
	}
	for _, p := range c.DNSPorts {
		if p < 1 || p > 65535 {
			return fmt.Errorf("--dns-ports: %d is not a port (1-65535)", p)
		}
	}
	if c.LocalAddrsRefresh <= 0 {
		return fmt.Errorf("--local-addrs-refresh: %v must be positive", c.LocalAddrsRefresh)
	}
	if err := c.Server.Validate(); err != nil {
		return fmt.Errorf("validate server config: %w", err)
	}
	return nil
}
