package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/foveanet/fovea/test/demo"
)

func bindDemoFlags(fs *pflag.FlagSet, cfg *demo.Config) {
	fs.IntVar(&cfg.Nodes, "nodes", 2, "nodes (network namespaces) in the simulated cluster")
	fs.IntVar(&cfg.PodsPerNode, "pods-per-node", 2, "pods behind each node")
	fs.StringVar(&cfg.StateDir, "state-dir", "/run/fovea-demo", "directory for agent sockets and logs")
	fs.Float64Var(&cfg.Rate, "rate", 4, "new connections per second across the cluster")
	fs.IntVar(&cfg.RingCapacity, "ring-capacity", 65535, "ring capacity of every agent; one less than a power of two")
	fs.StringVar(&cfg.Hubble, "hubble", "", "hubble CLI to show the cluster's flows with, through the relay (hubble observe --follow)")
}

func newDemoCommand() *cobra.Command {
	var cfg demo.Config
	return newCommand("demo", "Run a simulated cluster of network namespaces with live flows (needs root)",
		func(fs *pflag.FlagSet) { bindDemoFlags(fs, &cfg) },
		func(ctx context.Context, log *slog.Logger) error {
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find own binary: %w", err)
			}
			cfg.Agent = self
			return demo.Run(ctx, cfg, log)
		})
}
