package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// version is set at link time (-ldflags "-X main.version=…"); otherwise the
// module version from the build info is used.
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// flagConfig names the config file, which settle reads before the others.
const flagConfig = "config"

// commonFlags are shared by every subcommand.
type commonFlags struct {
	configFile string
	logLevel   slog.Level
	logJSON    bool
}

func (c *commonFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&c.configFile, flagConfig, "", "YAML file of flag values (keys are flag names)")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn or error")
	fs.BoolVar(&c.logJSON, "log-json", false, "log JSON lines instead of text")
}

func (c *commonFlags) logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.logLevel}
	if c.logJSON {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "fovea",
		Short:         "Network-flow observability for Kubernetes, served through the Hubble API",
		Version:       buildVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newAgentCommand(), newCaptureCommand(), newDemoCommand(), newRelayCommand())
	return root
}

// settle fills the flags the command line left unset from the environment and
// the config file; call it first in every RunE.
func settle(cmd *cobra.Command, c *commonFlags) error {
	// The file's own path can come from the environment, so read it first.
	if v, ok := os.LookupEnv(envName(flagConfig)); ok && !cmd.Flags().Changed(flagConfig) {
		c.configFile = v
	}
	if err := fillUnsetFlags(cmd.Flags(), c.configFile); err != nil {
		return fmt.Errorf("%s: %w", cmd.Name(), err)
	}
	return nil
}

// newCommand builds a subcommand that takes no arguments: bind adds its flags
// next to the common ones, and run gets the settled flags' logger.
func newCommand(use, short string, bind func(*pflag.FlagSet), run func(context.Context, *slog.Logger) error) *cobra.Command {
	var common commonFlags
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := settle(cmd, &common); err != nil {
				return err
			}
			return run(cmd.Context(), common.logger())
		},
	}
	common.bind(cmd.Flags())
	bind(cmd.Flags())
	return cmd
}
