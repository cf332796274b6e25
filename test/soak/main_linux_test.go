//go:build linux

package soak

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/spf13/pflag"

	"github.com/foveanet/fovea/agent"
	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/bpf"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/relay"
	"github.com/foveanet/fovea/test/replay"
)

// childEnv, set in a child's environment, makes this test binary run as a
// replay agent ("agent") or a relay ("relay") instead of running tests.
const childEnv = "FOVEA_SOAK_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "agent":
		os.Exit(runReplayAgent(os.Args[1:]))
	case "relay":
		os.Exit(runRelay(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// runRelay runs relay.Run with the relay's flags until SIGTERM.
func runRelay(args []string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var cfg relay.Config
	fs := pflag.NewFlagSet("relay", pflag.ContinueOnError)
	cfg.Flags(fs)
	if err := fs.Parse(args); err != nil {
		log.Error("parse flags", "err", err)
		return 2
	}
	cfg.Version = "soak"
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := relay.Run(ctx, cfg, log); err != nil {
		log.Error("relay failed", "err", err)
		return 1
	}
	return 0
}

// runReplayAgent runs agent.Run with every agent flag and the replay
// source's own, until SIGTERM.
func runReplayAgent(args []string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var cfg agent.Config
	fs := pflag.NewFlagSet("replay-agent", pflag.ContinueOnError)
	cfg.Flags(fs)
	rate := fs.Float64("replay-rate", 10000, "records a second")
	pods := fs.Int("replay-pods", 50, "pods the records travel between")
	queue := fs.Int("replay-queue", replayQueue, "records the kernel ring buffer's stand-in holds")
	dnsEvery := fs.Int("replay-dns-every", 0, "one record in this many is a DNS response with rotating names (0: none)")
	if err := fs.Parse(args); err != nil {
		log.Error("parse flags", "err", err)
		return 2
	}
	cfg.Version = "soak"
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := agent.RunWithSource(ctx, cfg, log,
		replaySource(replay.Config{Rate: *rate, Pods: podAddrs(*pods), QueueRecords: *queue, DNSEvery: *dnsEvery})); err != nil {
		log.Error("agent failed", "err", err)
		return 1
	}
	return 0
}

// replaySource builds the replay source with the agent's L7 parser and
// hands it over, capturing as soon as it is built.
func replaySource(rc replay.Config) agent.SourceFunc {
	return func(_ agent.Config, _ *slog.Logger, _ *intern.Tables, l7 bpf.L7Parser, _ *observer.AgentEvents, ready func()) (agent.Source, error) {
		if rc.DNSEvery > 0 {
			rc.L7 = l7
		}
		src, err := replay.New(rc)
		if err != nil {
			return nil, fmt.Errorf("create replay source: %w", err)
		}
		ready()
		return src, nil
	}
}

// replayQueue is the replay agents' queue, in records.
const replayQueue = 1 << 16

// podAddrs are the addresses of n pods, in 10.2.0.0/16.
func podAddrs(n int) []netip.Addr {
	addrs := make([]netip.Addr, n)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)})
	}
	return addrs
}

// podName is the name of the pod at podAddrs(n)[i].
func podName(i int) string { return fmt.Sprintf("pod-%d", i) }
