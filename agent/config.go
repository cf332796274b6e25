package agent

import (
	"fmt"
	"math"
	"time"

	"github.com/spf13/pflag"

	"github.com/foveanet/fovea/agent/capture"
	"github.com/foveanet/fovea/agent/flowmetrics"
	"github.com/foveanet/fovea/agent/http"
	"github.com/foveanet/fovea/api/server"
	"github.com/foveanet/fovea/bpf"
)

// The agent's flags. Flags registers them and the errors of Validate and Run
// name them, since a flag is what the user has to change.
const (
	flagNodeName               = "node-name"
	flagClusterName            = "cluster-name"
	flagRingCapacity           = "ring-capacity"
	flagInterfaces             = "interfaces"
	flagDNSPorts               = "dns-ports"
	flagVXLANPorts             = "vxlan-ports"
	flagGenevePorts            = "geneve-ports"
	flagDisableDrops           = "disable-drops"
	flagDisableRetransmissions = "disable-retransmissions"
	flagReportUnspecifiedDrops = "report-unspecified-drops"
	flagAggregation            = "aggregation"
	flagAggregationInterval    = "aggregation-interval"
	flagSampleRate             = "sample-rate"
	flagInventory              = "inventory"
	flagInventoryInterval      = "inventory-interval"
	flagKubeconfig             = "kubeconfig"
	flagNetworkPolicies        = "network-policies"
	flagMetricsAddress         = "metrics-address"
	flagMetrics                = "metrics"
	flagMetricsConfig          = "metrics-config"
	flagMetricsConfigInterval  = "metrics-config-interval"
	flagMetricsSeriesTTL       = "metrics-series-ttl"
	flagMetricsSeriesLimit     = "metrics-series-limit"
	flagRetinaMetrics          = "retina-metrics"
	flagAPIServerAddresses     = "apiserver-addresses"
	flagLocalAddrsRefresh      = "local-addrs-refresh"
	flagInternSweepInterval    = "intern-sweep-interval"
	// The flow log flags are Cilium's --hubble-export-* without the
	// hubble- prefix, as --metrics is Cilium's --hubble-metrics.
	flagExportFilePath       = "export-file-path"
	flagExportFileMaxSizeMB  = "export-file-max-size-mb"
	flagExportFileMaxBackups = "export-file-max-backups"
	flagExportFileCompress   = "export-file-compress"
	flagExportAllowlist      = "export-allowlist"
	flagExportDenylist       = "export-denylist"
	flagExportFieldMask      = "export-fieldmask"
	// Cilium's --hubble-flowlogs-config-path.
	flagFlowlogsConfig         = "flowlogs-config"
	flagFlowlogsConfigInterval = "flowlogs-config-interval"
	// OTLP logs, the TLS flags named as the relay's --peer-tls-*.
	flagOTLPEndpoint      = "otlp-endpoint"
	flagOTLPInsecure      = "otlp-insecure"
	flagOTLPTLSCAFiles    = "otlp-tls-ca-files"
	flagOTLPTLSCertFile   = "otlp-tls-cert-file"
	flagOTLPTLSKeyFile    = "otlp-tls-key-file"
	flagOTLPTLSServerName = "otlp-tls-server-name"
	flagOTLPHeaders       = "otlp-headers"
	flagOTLPCompression   = "otlp-compression"
	flagOTLPAllowlist     = "otlp-allowlist"
	flagOTLPDenylist      = "otlp-denylist"
	flagOTLPFieldMask     = "otlp-fieldmask"
	flagOTLPBatchSize     = "otlp-batch-size"
	flagOTLPBatchTimeout  = "otlp-batch-timeout"
	flagOTLPQueueSize     = "otlp-queue-size"
	flagOTLPTimeout       = "otlp-timeout"
)

// Config is everything an agent needs to run.
type Config struct {
	// NodeName names the node in every flow and in the peer service.
	NodeName string
	// ClusterName is the Kubernetes cluster the node belongs to.
	ClusterName string
	// RingCapacity is how many events the agent keeps: 2^n-1, as Hubble.
	RingCapacity int
	// Interfaces are name globs of the interfaces to observe, each
	// optionally followed by =endpoint, =network or =overlay to fix their
	// role; empty means every pod veth, every tunnel device and the
	// default-route device.
	Interfaces []string
	// DNSPorts are the TCP and UDP ports whose payload is parsed as DNS.
	DNSPorts []uint
	// VXLANPorts and GenevePorts are the UDP ports whose packets are
	// decapsulated and reported as the pod packets inside.
	VXLANPorts, GenevePorts []uint
	// DisableDrops and DisableRetransmissions turn off reporting packets
	// the kernel drops and TCP retransmissions.
	DisableDrops, DisableRetransmissions bool
	// ReportUnspecifiedDrops reports packets the kernel frees without a
	// reason (NOT_SPECIFIED) as drops; by default they are only counted.
	ReportUnspecifiedDrops bool
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
	// NetworkPolicies evaluates the cluster's network policies on each
	// new connection when pods come from the Kubernetes API.
	NetworkPolicies bool
	// MetricsAddress is where /metrics is served; empty disables it.
	MetricsAddress string
	// Metrics are Hubble's flow metrics to count, in the syntax of Cilium's
	// --hubble-metrics; empty counts none (hubble_lost_events_total is
	// served regardless).
	Metrics string
	// MetricsConfig is a YAML file of Hubble's flow metrics to count, in
	// the shape of Cilium's dynamic metrics config, applied again whenever
	// it changes; it replaces Metrics. MetricsConfigInterval is how often
	// it is read for changes.
	MetricsConfig         string
	MetricsConfigInterval time.Duration
	// MetricsSeriesTTL is how long a flow metric's series naming endpoints
	// or DNS queries lives after its last flow; MetricsSeriesLimit is the
	// most series one flow metric holds.
	MetricsSeriesTTL   time.Duration
	MetricsSeriesLimit int
	// RetinaMetrics serves Retina's series (networkobservability_*): ""
	// none, basic the node's, advanced the node's and the pods' (adv_*,
	// with remote context, for pods of every namespace unless the
	// --metrics-config file's retina section selects otherwise).
	RetinaMetrics string
	// APIServerAddresses are addresses of the kube-apiserver, for Retina's
	// adv_node_apiserver_* series, besides those the Kubernetes API names
	// (the default/kubernetes service's backends and cluster IPs).
	APIServerAddresses []string
	// LocalAddrsRefresh is how often the node's own addresses are re-read.
	LocalAddrsRefresh time.Duration
	// InternSweepInterval is how often the intern tables are swept of
	// endpoints, services, names and interfaces that no record in the ring
	// and nothing live references any more; a value is freed two to three
	// intervals after its last use.
	InternSweepInterval time.Duration
	// ExportFilePath is where the static flow log is written ("stdout" for
	// standard output); empty writes none. The file is rotated at
	// ExportFileMaxSizeMB, ExportFileMaxBackups rotated files are kept, and
	// compressed if ExportFileCompress.
	ExportFilePath       string
	ExportFileMaxSizeMB  int
	ExportFileMaxBackups int
	ExportFileCompress   bool
	// ExportAllowlist and ExportDenylist are FlowFilters in JSON, one
	// object after the other, that select the flows logged;
	// ExportFieldMask the flow fields written (empty: all).
	ExportAllowlist, ExportDenylist string
	ExportFieldMask                 []string
	// FlowlogsConfig is a file of flow logs in the shape of Cilium's
	// dynamic exporter configuration, applied again whenever it changes
	// (checked every FlowlogsConfigInterval); empty means none.
	FlowlogsConfig         string
	FlowlogsConfigInterval time.Duration
	// OTLP sends flows to an OpenTelemetry Collector as logs.
	OTLP OTLPConfig
	// Version is reported by ServerStatus, GetNodes and flow emitters.
	Version string
	Server  server.Config
	// Capture bounds the node's packet captures.
	Capture capture.Config
	// HTTP is what HTTP visibility reports and costs.
	HTTP http.Config
}

// Flags registers the agent's flags, with their defaults, bound to c's
// fields.
func (c *Config) Flags(fs *pflag.FlagSet) {
	fs.StringVar(&c.NodeName, flagNodeName, defaultNodeName(), "name of this node in flows and peer announcements")
	fs.StringVar(&c.ClusterName, flagClusterName, "default", "name of the cluster this node belongs to")
	fs.IntVar(&c.RingCapacity, flagRingCapacity, 4095, "events kept in memory for GetFlows; one less than a power of two")
	fs.StringSliceVar(&c.Interfaces, flagInterfaces, nil,
		"name globs of interfaces to observe, each optionally with =endpoint (a pod's veth), =network (facing the network) or =overlay (a tunnel device) to fix its role, e.g. 'eth0=network,lxc*=endpoint'; the first match applies (default: every veth leading to another namespace, every tunnel device and the default-route device, roles decided from what they are)")
	fs.UintSliceVar(&c.DNSPorts, flagDNSPorts, defaultDNSPorts, "TCP and UDP ports whose payload is parsed as DNS")
	fs.UintSliceVar(&c.VXLANPorts, flagVXLANPorts, defaultVXLANPorts,
		"UDP ports of VXLAN tunnels, whose packets are reported as the pod packets inside (4789: IANA, Calico; 8472: Linux default, flannel, Cilium)")
	fs.UintSliceVar(&c.GenevePorts, flagGenevePorts, defaultGenevePorts,
		"UDP ports of Geneve tunnels, whose packets are reported as the pod packets inside (Antrea, OVN-Kubernetes, Cilium)")
	fs.BoolVar(&c.DisableDrops, flagDisableDrops, false, "do not report packets the kernel drops (skb:kfree_skb)")
	fs.BoolVar(&c.DisableRetransmissions, flagDisableRetransmissions, false, "do not report TCP retransmissions (tcp:tcp_retransmit_skb)")
	fs.BoolVar(&c.ReportUnspecifiedDrops, flagReportUnspecifiedDrops, false,
		"also report packets the kernel frees with drop reason NOT_SPECIFIED, which many kernel paths give without any failure "+
			"(e.g. IPv6 multicast no one listens to); by default they are only counted in fovea_drops_unreported_packets_total")
	fs.StringVar(&c.Aggregation, flagAggregation, defaultAggregation,
		"what the datapath reports of a connection: connection (first packet, new TCP flags, FIN/RST and a periodic count) or none (every packet, for debugging)")
	fs.DurationVar(&c.AggregationInterval, flagAggregationInterval, 30*time.Second,
		"how often a busy connection is reported with its packet and byte counts")
	fs.UintVar(&c.SampleRate, flagSampleRate, 0, "also report 1 in N of the packets aggregation counts silently (0 or 1: none)")
	fs.StringVar(&c.Inventory, flagInventory, "",
		"YAML file of pods (namespace, name, labels, ips, node, workload, serviceAccount) and services (namespace, name, clusterIPs, ports) to label flows with; re-read when it changes")
	fs.DurationVar(&c.InventoryInterval, flagInventoryInterval, 2*time.Second, "how often to check the --"+flagInventory+" file for changes")
	fs.StringVar(&c.Kubeconfig, flagKubeconfig, "",
		"kubeconfig of the cluster whose pods and services label flows (default: the cluster the agent runs in, if any)")
	fs.BoolVar(&c.NetworkPolicies, flagNetworkPolicies, true,
		"with pods from the Kubernetes API, name the NetworkPolicies (and ClusterNetworkPolicies, where served) that allow or deny each new connection: policy-verdict flows, AUDIT for denied connections the network delivered, POLICY_DENIED drops naming the policy")
	fs.StringVar(&c.MetricsAddress, flagMetricsAddress, ":9965", "address to serve Prometheus /metrics on; empty disables it")
	fs.StringVar(&c.Metrics, flagMetrics, "",
		"Hubble flow metrics to count, as Cilium's --hubble-metrics: handlers separated by spaces, each optionally followed by a colon and options separated by semicolons, e.g. 'dns:query;ignoreAAAA drop:sourceContext=pod;destinationContext=namespace flow' (handlers: flow, drop, tcp, dns, port-distribution, icmp, flows-to-world, policy, http, httpV2)")
	fs.StringVar(&c.MetricsConfig, flagMetricsConfig, "",
		"YAML file of Hubble flow metrics to count, in the shape of Cilium's dynamic metrics config (metrics: [{name, contextOptions: [{name, values}], includeFilters, excludeFilters}]); re-read when it changes, a bad version keeping the metrics as they were (instead of --"+flagMetrics+")")
	fs.DurationVar(&c.MetricsConfigInterval, flagMetricsConfigInterval, 2*time.Second, "how often to read the --"+flagMetricsConfig+" file for changes")
	fs.DurationVar(&c.MetricsSeriesTTL, flagMetricsSeriesTTL, flowmetrics.DefaultSeriesTTL,
		"how long a flow metric's series naming a pod, workload, address or DNS query lives after its last flow")
	fs.IntVar(&c.MetricsSeriesLimit, flagMetricsSeriesLimit, flowmetrics.DefaultSeriesLimit,
		"most series one flow metric holds; flows that would add more are counted in fovea_metrics_series_dropped_total")
	fs.StringVar(&c.RetinaMetrics, flagRetinaMetrics, "",
		"serve Retina's networkobservability_* series: basic (the node's forward, drop, TCP, UDP, IP, interface, DNS and conntrack series) or advanced "+
			"(also the pods' adv_* series; the --"+flagMetricsConfig+" file's retina section selects pods and context); empty serves none")
	fs.StringSliceVar(&c.APIServerAddresses, flagAPIServerAddresses, nil,
		"addresses of the kube-apiserver whose handshakes Retina's adv_node_apiserver_* series time, besides those of the default/kubernetes service")
	fs.DurationVar(&c.LocalAddrsRefresh, flagLocalAddrsRefresh, 30*time.Second, "how often to re-read the node's own addresses")
	fs.DurationVar(&c.InternSweepInterval, flagInternSweepInterval, 10*time.Second,
		"how often to free the pods, services, DNS names and interfaces no flow in the ring and nothing current references")
	c.exportFlags(fs)
	c.OTLP.flags(fs)
	c.Server.Flags(fs, server.Config{SocketPath: "/var/run/fovea/hubble.sock", ListenAddress: ":4244"})
	c.Capture.Flags(fs)
	c.HTTP.Flags(fs, defaultDisableHTTP)
}

// Validate reports the first invalid setting, named as its flag.
func (c *Config) Validate() error {
	if c.NodeName == "" {
		return fmt.Errorf("--%s: must not be empty", flagNodeName)
	}
	if n := c.RingCapacity; n < 1 || n&(n+1) != 0 {
		return fmt.Errorf("--%s: %d is not one less than a power of two (1, 3, 7, …, 4095, …)", flagRingCapacity, n)
	}
	if err := c.validatePlatform(); err != nil {
		return err
	}
	if err := bpf.ValidateInterfaces(c.Interfaces); err != nil {
		return fmt.Errorf("--%s: %w", flagInterfaces, err)
	}
	for _, f := range []struct {
		flag  string
		ports []uint
	}{{flagDNSPorts, c.DNSPorts}, {flagVXLANPorts, c.VXLANPorts}, {flagGenevePorts, c.GenevePorts}} {
		for _, p := range f.ports {
			if p < 1 || p > 65535 {
				return fmt.Errorf("--%s: %d is not a port (1-65535)", f.flag, p)
			}
		}
	}
	if err := bpf.ValidateTunnelPorts(ports16(c.VXLANPorts), ports16(c.GenevePorts)); err != nil {
		return fmt.Errorf("--%s, --%s: %w", flagVXLANPorts, flagGenevePorts, err)
	}
	switch c.Aggregation {
	case "connection":
	case "none":
		if c.SampleRate > 1 {
			return fmt.Errorf("--%s: %d needs --%s=connection (none reports every packet)", flagSampleRate, c.SampleRate, flagAggregation)
		}
	default:
		return fmt.Errorf("--%s: %q is neither connection nor none", flagAggregation, c.Aggregation)
	}
	if c.AggregationInterval <= 0 {
		return fmt.Errorf("--%s: %v must be positive", flagAggregationInterval, c.AggregationInterval)
	}
	if c.SampleRate > math.MaxUint32 {
		return fmt.Errorf("--%s: %d exceeds %d", flagSampleRate, c.SampleRate, uint32(math.MaxUint32))
	}
	if c.Inventory != "" && c.Kubeconfig != "" {
		return fmt.Errorf("--%s and --%s: pods come from one or the other, not both", flagInventory, flagKubeconfig)
	}
	if c.Inventory != "" && c.InventoryInterval <= 0 {
		return fmt.Errorf("--%s: %v must be positive", flagInventoryInterval, c.InventoryInterval)
	}
	if c.LocalAddrsRefresh <= 0 {
		return fmt.Errorf("--%s: %v must be positive", flagLocalAddrsRefresh, c.LocalAddrsRefresh)
	}
	if c.InternSweepInterval <= 0 {
		return fmt.Errorf("--%s: %v must be positive", flagInternSweepInterval, c.InternSweepInterval)
	}
	if err := c.validateFlowMetrics(); err != nil {
		return err
	}
	if err := c.validateExport(); err != nil {
		return err
	}
	if err := c.OTLP.validate(); err != nil {
		return err
	}
	if err := c.Server.Validate(); err != nil {
		return fmt.Errorf("validate server config: %w", err)
	}
	if err := c.HTTP.Validate(); err != nil {
		return err
	}
	return c.Capture.Validate()
}

// ports16 converts ports Validate bounded, keeping an empty list non-nil
// (empty means none, nil the default).
func ports16(ports []uint) []uint16 {
	out := make([]uint16, len(ports))
	for i, p := range ports {
		out[i] = uint16(p)
	}
	return out
}
