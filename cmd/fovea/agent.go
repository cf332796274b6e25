package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/foveanet/fovea/agent"
)

func newAgentCommand() *cobra.Command {
	var cfg agent.Config
	return newCommand("agent", "Observe this node's traffic and serve it through the Hubble API", cfg.Flags,
		func(ctx context.Context, log *slog.Logger) error {
			cfg.Version = buildVersion()
			return agent.Run(ctx, cfg, log)
		})
}
