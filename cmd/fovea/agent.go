package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/foveanet/fovea/agent"
	"github.com/foveanet/fovea/api/server"
)

// bindAgentFlags binds every agent flag to its config field: the only place
// agent flag names appear.
func bindAgentFlags(fs *pflag.FlagSet, cfg *agent.Config) {
	host, _ := os.Hostname()
	fs.StringVar(&cfg.NodeName, "node-name", host, "name of this node in flows and peer announcements")
	fs.StringVar(&cfg.ClusterName, "cluster-name", "default", "name of the cluster this node belongs to")
	fs.IntVar(&cfg.RingCapacity, "ring-capacity", 4095, "events kept in memory for GetFlows; one less than a power of two")
	fs.StringSliceVar(&cfg.Interfaces, "interfaces", nil,
		"name globs of interfaces to observe (default: every host-side veth plus the default-route device)")
	fs.UintSliceVar(&cfg.DNSPorts, "dns-ports", []uint{53}, "TCP and UDP ports whose payload is parsed as DNS")
	fs.BoolVar(&cfg.DisableDrops, "disable-drops", false, "do not report packets the kernel drops (skb:kfree_skb)")
	fs.BoolVar(&cfg.DisableRetransmissions, "disable-retransmissions", false, "do not report TCP retransmissions (tcp:tcp_retransmit_skb)")
	fs.StringVar(&cfg.Aggregation, "aggregation", "connection",
		"what the datapath reports of a connection: connection (first packet, new TCP flags, FIN/RST and a periodic count) or none (every packet, for debugging)")
	fs.DurationVar(&cfg.AggregationInterval, "aggregation-interval", 30*time.Second,
		"how often a busy connection is reported with its packet and byte counts")
	fs.UintVar(&cfg.SampleRate, "sample-rate", 0, "also report 1 in N of the packets aggregation counts silently (0 or 1: none)")
	fs.StringVar(&cfg.Inventory, "inventory", "",
		"YAML file of pods (namespace, name, labels, ips, node, workload, serviceAccount) and services (namespace, name, clusterIPs, ports) to label flows with; re-read when it changes")
	fs.DurationVar(&cfg.InventoryInterval, "inventory-interval", 2*time.Second, "how often to check the --inventory file for changes")
	fs.StringVar(&cfg.Kubeconfig, "kubeconfig", "",
		"kubeconfig of the cluster whose pods and services label flows (default: the cluster the agent runs in, if any)")
	fs.StringVar(&cfg.MetricsAddress, "metrics-address", ":9965", "address to serve Prometheus /metrics on; empty disables it")
	fs.DurationVar(&cfg.LocalAddrsRefresh, "local-addrs-refresh", 30*time.Second, "how often to re-read the node's own addresses")
	fs.DurationVar(&cfg.InternSweepInterval, "intern-sweep-interval", 10*time.Second,
		"how often to free the pods, services, DNS names and interfaces no flow in the ring and nothing current references")
	cfg.Server.Flags(fs, server.Config{SocketPath: "/var/run/fovea/hubble.sock", ListenAddress: ":4244"})
}

func newAgentCommand() *cobra.Command {
	var cfg agent.Config
	return newCommand("agent", "Observe this node's traffic and serve it through the Hubble API",
		func(fs *pflag.FlagSet) { bindAgentFlags(fs, &cfg) },
		func(ctx context.Context, log *slog.Logger) error {
			cfg.Version = buildVersion()
			return agent.Run(ctx, cfg, log)
		})
}
