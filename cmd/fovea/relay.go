package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/foveanet/fovea/api/server"
	"github.com/foveanet/fovea/relay"
)

// bindRelayFlags binds every relay flag to its config field: the only place
// relay flag names appear.
func bindRelayFlags(fs *pflag.FlagSet, cfg *relay.Config) {
	host, _ := os.Hostname()
	fs.StringVar(&cfg.NodeName, "node-name", host, "name of the relay in the node status events it sends")
	cfg.Server.Flags(fs, server.Config{SocketPath: "/var/run/fovea/relay.sock", ListenAddress: ":4245"})
	fs.StringSliceVar(&cfg.Peers, "peers", nil, "agents to connect to: host:port or name=host:port, comma-separated")
	fs.StringVar(&cfg.PeerService, "peer-service", "",
		"an agent's peer service whose peer.Notify stream lists the agents (host:port or unix:///path)")
	fs.BoolVar(&cfg.KubernetesPeers, "kubernetes-peers", false, "connect to the agent on every node of the Kubernetes cluster")
	fs.StringVar(&cfg.Kubeconfig, "kubeconfig", "", "kubeconfig for --kubernetes-peers (default: the cluster the relay runs in)")
	fs.IntVar(&cfg.PeerPort, "peer-port", 4244, "port the agents listen on, for --kubernetes-peers")
	fs.StringVar(&cfg.ClusterName, "cluster-name", "default", "cluster the --kubernetes-peers nodes belong to, as agents name it")
	fs.BoolVar(&cfg.Dial.TLS.Insecure, "peer-insecure", false, "connect to agents in plaintext")
	fs.StringSliceVar(&cfg.Dial.TLS.CAFiles, "peer-tls-ca-files", nil, "CA bundles agent certificates must chain to (default: system roots)")
	fs.StringVar(&cfg.Dial.TLS.CertFile, "peer-tls-cert-file", "", "client certificate (PEM) for agents requiring mutual TLS")
	fs.StringVar(&cfg.Dial.TLS.KeyFile, "peer-tls-key-file", "", "client private key (PEM) for agents requiring mutual TLS")
	fs.StringVar(&cfg.Dial.TLS.ServerName, "peer-tls-server-name", "",
		"name every agent certificate must carry (default: the name each agent announces, or <node>.<cluster>.hubble-grpc.cilium.io)")
	fs.DurationVar(&cfg.Dial.DialTimeout, "dial-timeout", 5*time.Second, "timeout of one connection attempt to an agent")
	fs.DurationVar(&cfg.Dial.MaxBackoff, "retry-timeout", 30*time.Second, "longest wait between connection attempts to an agent")
	fs.DurationVar(&cfg.Dial.Keepalive, "peer-keepalive", 30*time.Second, "keepalive ping interval on agent connections (at least 5s)")
	fs.IntVar(&cfg.Merge.SortBufferLen, "sort-buffer-len-max", 1024, "responses buffered per GetFlows stream to sort them by time")
	fs.DurationVar(&cfg.Merge.DrainTimeout, "sort-buffer-drain-timeout", time.Second,
		"how long a flow waits for older flows from quiet nodes before it is sent")
	fs.DurationVar(&cfg.Merge.RetryInterval, "peer-update-interval", 2*time.Second,
		"how often following streams look for nodes to start or resume")
	fs.StringVar(&cfg.MetricsAddress, "metrics-address", "",
		"address to serve Prometheus /metrics on (Hubble's relay uses :9966); empty disables it")
}

func newRelayCommand() *cobra.Command {
	var cfg relay.Config
	return newCommand("relay", "Serve the Hubble API for every agent of the cluster",
		func(fs *pflag.FlagSet) { bindRelayFlags(fs, &cfg) },
		func(ctx context.Context, log *slog.Logger) error {
			cfg.Version = buildVersion()
			return relay.Run(ctx, cfg, log)
		})
}
