package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/foveanet/fovea/agent"
	"github.com/foveanet/fovea/agent/inventory"
)

// TestWindowsAgentServesReplay runs the whole agent on the PktMon fixture
// stream with the platform's flag defaults and reads its flows over its
// unix socket with a Go client, and its metrics. Built for Windows it shows
// the pipeline, the Hubble server and the metrics endpoint work there, not
// only the decoder (make wine-test runs it; Wine 8 has no unix sockets, so
// there it skips); on Linux it runs in make e2e beside the hubble CLI test.
func TestWindowsAgentServesReplay(t *testing.T) {
	// The agent always serves a unix socket; Windows has AF_UNIX since 10
	// 1803, Wine 8 not (WSAEAFNOSUPPORT).
	probe := filepath.Join(os.TempDir(), fmt.Sprintf("fovea-probe-%d.sock", os.Getpid()))
	l, err := net.Listen("unix", probe)
	if err != nil {
		t.Skipf("no unix sockets here (%v): the agent cannot serve", err)
	}
	l.Close()
	sock, metricsAddr, done := startPktmonAgent(t, "drop")
	conn, err := grpc.NewClient("passthrough:///hubble", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := observerpb.NewObserverClient(conn)
	var flows []*flowpb.Flow
	deadline := time.Now().Add(30 * time.Second)
	for {
		flows, err = getFlows(client)
		if err == nil && len(flows) == 12 && flows[0].GetSource().GetPodName() == "client-0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s: %d flows, %v", len(flows), err)
		}
		select {
		case err := <-done:
			done <- err // for the cleanup
			t.Fatalf("agent stopped: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	drop := flows[3]
	if drop.GetVerdict() != flowpb.Verdict_DROPPED || drop.GetDropReasonDesc() != flowpb.DropReason_POLICY_DENIED ||
		drop.GetSource().GetPodName() != "db-0" || drop.GetDestination().GetPodName() != "web-0" ||
		!strings.HasSuffix(drop.GetSummary(), "kernel drop reason: Drop_FailedSecurityPolicy") ||
		drop.GetNodeName() != "mixed/win-node-1" || drop.GetInterface().GetName() != "Virtual Filtering Platform VMSwitch Extension" {
		t.Errorf("the policy drop: %v", drop)
	}
	body := scrapeText(t, metricsAddr)
	for _, s := range []string{
		`fovea_windows_events_read_total{event="packet"} 15`,
		`hubble_drop_total{protocol="TCP",reason="POLICY_DENIED"} 1`,
		`networkobservability_forward_count{cluster="mixed",direction="ingress",instance="win-node-1"} 940`,
	} {
		if !strings.Contains(body, s+"\n") {
			t.Errorf("/metrics: no %s", s)
		}
	}
}

// getFlows reads the flows in the agent's ring.
func getFlows(client observerpb.ObserverClient) ([]*flowpb.Flow, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := client.GetFlows(ctx, &observerpb.GetFlowsRequest{Number: 100})
	if err != nil {
		return nil, err
	}
	var flows []*flowpb.Flow
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return flows, nil
		}
		if err != nil {
			return flows, fmt.Errorf("get flows: %w", err)
		}
		if f := resp.GetFlow(); f != nil {
			flows = append(flows, f)
		}
	}
}

// startPktmonAgent runs the whole agent on the PktMon fixture stream of a
// Windows node (pods web-0 and client-0 on it; db-0 on another node, each
// labelled app=<name without -0>) with the given --metrics, until the
// test ends. It returns the agent's unix socket, its metrics address and
// the channel its Run result arrives on.
func startPktmonAgent(t *testing.T, metrics string) (sock, metricsAddr string, done chan error) {
	t.Helper()
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yaml")
	pod := func(name, ip, node string, more ...string) inventory.Pod {
		return inventory.Pod{Namespace: "shop", Name: name, IPs: append([]string{ip}, more...), Node: node,
			Labels: map[string]string{"app": strings.TrimSuffix(name, "-0")}}
	}
	f := inventory.File{Pods: []inventory.Pod{
		pod("web-0", "10.244.1.10", "win-node-1", "fd00:10:244:1::a"),
		pod("client-0", "10.244.1.11", "win-node-1"),
		pod("db-0", "10.244.2.20", "linux-node-1"),
	}}
	data, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inv, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var cfg agent.Config
	fs := pflag.NewFlagSet("agent", pflag.ContinueOnError)
	cfg.Flags(fs)
	metricsAddr, sock = freePort(t), filepath.Join(dir, "hubble.sock")
	if err := fs.Parse([]string{"--node-name=win-node-1", "--cluster-name=mixed", "--inventory=" + inv,
		"--metrics-address=" + metricsAddr, "--metrics=" + metrics, "--retina-metrics=basic",
		"--socket-path=" + sock, "--listen-address="}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() {
		done <- agent.RunWithSource(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), newPktmonReplay(t))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	})
	return sock, metricsAddr, done
}
