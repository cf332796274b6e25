package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/foveanet/fovea/relay"
)

func newRelayCommand() *cobra.Command {
	var cfg relay.Config
	return newCommand("relay", "Serve the Hubble API for every agent of the cluster", cfg.Flags,
		func(ctx context.Context, log *slog.Logger) error {
			cfg.Version = buildVersion()
			return relay.Run(ctx, cfg, log)
		})
}
