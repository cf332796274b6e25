package main

import (
	"fmt"
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
	fs.StringVar(&cfg.Hubble, "hubble", "", "hubble CLI to show node flows with (hubble observe --follow)")
}

func newDemoCommand() *cobra.Command {
	var (
		common commonFlags
		cfg    demo.Config
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a simulated cluster of network namespaces with live flows (needs root)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := settle(cmd, &common); err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find own binary: %w", err)
			}
			cfg.Agent = self
			return demo.Run(cmd.Context(), cfg, common.logger())
		},
	}
	common.bind(cmd.Flags())
	bindDemoFlags(cmd.Flags(), &cfg)
	return cmd
}
