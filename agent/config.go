package agent

import (
	"errors"
	"fmt"
	"math"
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
	// Aggregation is what the datapath reports of a connection:
	// "connection" (its news and a periodic count) or "none" (every packet).
	Aggregation string
	// AggregationInterval is how often a busy connection is reported.
	AggregationInterval time.Duration
	// SampleRate, above 1, also reports 1 in SampleRate of the packets
	// aggregation counts silently.
	SampleRate uint
	// Inventory is a YAML file of pods and services to label flows with;
	// empty means none. InventoryInterval is how often it is checked for
	// changes.
	Inventory         string
	InventoryInterval time.Duration
	// Kubeconfig is the kubeconfig file of the cluster whose pods and
	// services label flows; empty means the cluster the agent runs in, if
	// any.
	Kubeconfig string
	// MetricsAddress is where /metrics is served; empty disables it.
	MetricsAddress string
	// LocalAddrsRefresh is how often the node's own addresses are re-read.
	LocalAddrsRefresh time.Duration
	// InternSweepInterval is how often the intern tables are swept of
	// endpoints, services, names and interfaces that no record in the ring
	// and nothing live references any more; a value is freed two to three
	// intervals after its last use.
	InternSweepInterval time.Duration
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
	switch c.Aggregation {
	case "connection":
	case "none":
		if c.SampleRate > 1 {
			return fmt.Errorf("--sample-rate: %d needs --aggregation=connection (none reports every packet)", c.SampleRate)
		}
	default:
		return fmt.Errorf("--aggregation: %q is neither connection nor none", c.Aggregation)
	}
	if c.AggregationInterval <= 0 {
		return fmt.Errorf("--aggregation-interval: %v must be positive", c.AggregationInterval)
	}
	if c.SampleRate > math.MaxUint32 {
		return fmt.Errorf("--sample-rate: %d exceeds %d", c.SampleRate, uint32(math.MaxUint32))
	}
	if c.Inventory != "" && c.Kubeconfig != "" {
		return errors.New("--inventory and --kubeconfig: pods come from one or the other, not both")
	}
	if c.Inventory != "" && c.InventoryInterval <= 0 {
		return fmt.Errorf("--inventory-interval: %v must be positive", c.InventoryInterval)
	}
	if c.LocalAddrsRefresh <= 0 {
		return fmt.Errorf("--local-addrs-refresh: %v must be positive", c.LocalAddrsRefresh)
	}
	if c.InternSweepInterval <= 0 {
		return fmt.Errorf("--intern-sweep-interval: %v must be positive", c.InternSweepInterval)
	}
	if err := c.Server.Validate(); err != nil {
		return fmt.Errorf("validate server config: %w", err)
	}
	return nil
}
