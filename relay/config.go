package relay

import (
	"fmt"
	"net"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/foveanet/fovea/api/server"
)

// The relay's flags (DialConfig's are beside it). Flags registers them and
// the errors of Validate and Run name them, since a flag is what the user
// has to change.
const (
	flagNodeName               = "node-name"
	flagPeers                  = "peers"
	flagPeerService            = "peer-service"
	flagKubernetesPeers        = "kubernetes-peers"
	flagKubeconfig             = "kubeconfig"
	flagPeerPort               = "peer-port"
	flagClusterName            = "cluster-name"
	flagSortBufferLenMax       = "sort-buffer-len-max"
	flagSortBufferDrainTimeout = "sort-buffer-drain-timeout"
	flagPeerUpdateInterval     = "peer-update-interval"
	flagMetricsAddress         = "metrics-address"
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

// Flags registers the relay's flags, with their defaults, bound to c's
// fields.
func (c *Config) Flags(fs *pflag.FlagSet) {
	host, _ := os.Hostname()
	fs.StringVar(&c.NodeName, flagNodeName, host, "name of the relay in the node status events it sends")
	c.Server.Flags(fs, server.Config{SocketPath: "/var/run/fovea/relay.sock", ListenAddress: ":4245"})
	fs.StringSliceVar(&c.Peers, flagPeers, nil, "agents to connect to: host:port or name=host:port, comma-separated")
	fs.StringVar(&c.PeerService, flagPeerService, "",
		"an agent's peer service whose peer.Notify stream lists the agents (host:port or unix:///path)")
	fs.BoolVar(&c.KubernetesPeers, flagKubernetesPeers, false, "connect to the agent on every node of the Kubernetes cluster")
	fs.StringVar(&c.Kubeconfig, flagKubeconfig, "", "kubeconfig for --"+flagKubernetesPeers+" (default: the cluster the relay runs in)")
	fs.IntVar(&c.PeerPort, flagPeerPort, 4244, "port the agents listen on, for --"+flagKubernetesPeers)
	fs.StringVar(&c.ClusterName, flagClusterName, "default", "cluster the --"+flagKubernetesPeers+" nodes belong to, as agents name it")
	c.Dial.Flags(fs)
	c.Merge.Flags(fs)
	fs.StringVar(&c.MetricsAddress, flagMetricsAddress, "",
		"address to serve Prometheus /metrics on (Hubble's relay uses :9966); empty disables it")
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
		return fmt.Errorf("--%s, --%s, --%s: set at least one source of peers", flagPeers, flagPeerService, flagKubernetesPeers)
	}
	if c.KubernetesPeers && (c.PeerPort < 1 || c.PeerPort > 65535) {
		return fmt.Errorf("--%s: %d is not a port (1-65535)", flagPeerPort, c.PeerPort)
	}
	if _, err := ParsePeers(c.Peers); err != nil {
		return err
	}
	if c.MetricsAddress != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddress); err != nil {
			return fmt.Errorf("--%s: %w", flagMetricsAddress, err)
		}
	}
	return nil
}

// MergeConfig tunes the time-ordered merge of GetFlows streams.
type MergeConfig struct {
	// SortBufferLen bounds the responses buffered per client stream.
	SortBufferLen int
	// DrainTimeout is how long a response waits for older ones from nodes
	// that are quiet.
	DrainTimeout time.Duration
	// RetryInterval is how often follow streams look for nodes to (re)start.
	RetryInterval time.Duration
}

// Flags registers the merge flags, with their defaults, bound to c's fields.
func (c *MergeConfig) Flags(fs *pflag.FlagSet) {
	fs.IntVar(&c.SortBufferLen, flagSortBufferLenMax, 1024, "responses buffered per GetFlows stream to sort them by time")
	fs.DurationVar(&c.DrainTimeout, flagSortBufferDrainTimeout, time.Second,
		"how long a flow waits for older flows from quiet nodes before it is sent")
	fs.DurationVar(&c.RetryInterval, flagPeerUpdateInterval, 2*time.Second,
		"how often following streams look for nodes to start or resume")
}

// Validate checks the settings; errors name the flags.
func (c MergeConfig) Validate() error {
	if c.SortBufferLen < 1 {
		return fmt.Errorf("--%s: must be at least 1", flagSortBufferLenMax)
	}
	if c.DrainTimeout <= 0 {
		return fmt.Errorf("--%s: must be positive", flagSortBufferDrainTimeout)
	}
	if c.RetryInterval <= 0 {
		return fmt.Errorf("--%s: must be positive", flagPeerUpdateInterval)
	}
	return nil
}
