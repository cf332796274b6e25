package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/foveanet/fovea/test/demo"
)

func newDemoCommand() *cobra.Command {
	var cfg demo.Config
	return newCommand("demo", "Run a simulated cluster of network namespaces with live flows (needs root)", cfg.Flags,
		func(ctx context.Context, log *slog.Logger) error {
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find own binary: %w", err)
			}
			cfg.Agent = self
			return demo.Run(ctx, cfg, log)
		})
}
