package relay

import (
	"errors"
	"fmt"
	"net"

	"github.com/foveanet/fovea/api/server"
)

// Config is everything the relay runs with.
type Config struct {
	// Server is where clients connect.
	Server server.Config
	// Dial is how the relay connects to agents.
	Dial DialConfig
	// Merge tunes GetFlows.
	Merge MergeConfig
	// Peers is a static list of agents, "host:port" or "name=host:port".
	Peers []string
	// PeerService is the target of an agent's peer service whose
	// peer.Notify stream lists the agents (host:port or unix:///path).
	PeerService string
	// KubernetesPeers lists the agents from the cluster's Nodes, at
	// PeerPort, through Kubeconfig (empty: the cluster the relay runs in).
	KubernetesPeers bool
	Kubeconfig      string
	PeerPort        int
	// ClusterName names the nodes of KubernetesPeers as agents name
	// themselves (cluster/node).
	ClusterName string
	// NodeName names the relay in the node_name of its node_status events.
	NodeName string
	// Version is reported in ServerStatus and the hubble-relay-version
	// header.
	Version string
	// MetricsAddress is where /metrics is served (host:port); empty
	// disables it.
	MetricsAddress string
}

// Validate checks the configuration; errors name the flags.
func (c Config) Validate() error {
	if err := c.Server.Validate(); err != nil {
		return err
	}
	if err := c.Dial.Validate(); err != nil {
		return err
	}
	if err := c.Merge.Validate(); err != nil {
		return err
	}
	if len(c.Peers) == 0 && c.PeerService == "" && !c.KubernetesPeers {
		return errors.New("--peers, --peer-service, --kubernetes-peers: set at least one source of peers")
	}
	if c.KubernetesPeers && (c.PeerPort < 1 || c.PeerPort > 65535) {
		return fmt.Errorf("--peer-port: %d is not a port (1-65535)", c.PeerPort)
	}
	if _, err := ParsePeers(c.Peers); err != nil {
		return err
	}
	if c.MetricsAddress != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddress); err != nil {
			return fmt.Errorf("--metrics-address: %w", err)
		}
	}
	return nil
}
