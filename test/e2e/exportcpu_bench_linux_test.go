//go:build linux

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/kube"
	"github.com/foveanet/fovea/test/traffic"
)

// BenchmarkAgentExportCPU puts BenchmarkAgentCPU's load (every packet an
// event, benchEventsPerSecond of them) on an agent that exports nothing,
// every flow to a flow log, and every flow over OTLP to a real
// OpenTelemetry Collector on its node, and reports the agent's CPU in each
// mode: the difference is what exporting costs the agent at that rate.
func BenchmarkAgentExportCPU(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: builds network namespaces and loads eBPF programs")
	}
	fovea, otelcol := os.Getenv("FOVEA_BIN"), os.Getenv("OTELCOL_BIN")
	if otelcol == "" {
		otelcol, _ = filepath.Abs("../../.bin/otelcol")
	}
	for name, path := range map[string]string{"FOVEA_BIN": fovea, "OTELCOL_BIN": otelcol} {
		if _, err := os.Stat(path); err != nil {
			b.Fatalf("%s (make build otel-tools): %v", name, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	const prefix = "foveaexpb-"
	if err := cluster.Cleanup(ctx, prefix, log); err != nil {
		b.Fatal(err)
	}
	c, err := cluster.Build(ctx, cluster.Config{Prefix: prefix, Nodes: 1, PodsPerNode: 2, StateDir: b.TempDir(), Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(context.Background())
	dir := c.NodeStateDir("node1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	startBenchCollector(b, ctx, c, otelcol, dir)
	hosts := c.Hosts()
	if _, err := traffic.Serve(ctx, hosts[1], log); err != nil {
		b.Fatal(err)
	}
	conn := dialUDP(b, hosts[0], hosts[1].IPv4)
	go drain(conn)

	for _, mode := range []struct {
		name string
		args []string
	}{
		{"none", nil},
		{"file", []string{"--export-file-path", filepath.Join(dir, "flows.log"), "--export-file-max-size-mb", "50"}},
		{"otlp", []string{"--otlp-endpoint", collectorAddr, "--otlp-insecure"}},
	} {
		b.Run("export="+mode.name, func(b *testing.B) {
			agentCtx, stop := context.WithCancel(ctx)
			sock, agent, err := demo.StartAgent(agentCtx, c, "node1", fovea, 65535,
				demo.WithAgentArgs(append([]string{"--aggregation", "none"}, mode.args...)...))
			if err != nil {
				stop()
				b.Fatal(err)
			}
			defer func() {
				stop()
				<-agent.Done()
				_ = os.Remove(sock)
			}()
			status := statusClient(b, sock)
			for b.Loop() {
				loadAgent(b, conn, status, agent.Pid)
			}
		})
	}
}

// startBenchCollector runs the collector in node1's namespace, writing what
// it receives under dir, and waits until it listens.
func startBenchCollector(b *testing.B, ctx context.Context, c *cluster.Cluster, otelcol, dir string) {
	cfg := filepath.Join(dir, "otelcol.yaml")
	yaml := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
exporters:
  file:
    path: %s
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file]
`, collectorAddr, filepath.Join(dir, "collected.json"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		b.Fatal(err)
	}
	p, err := c.StartProcess(ctx, "node1", cluster.ProcessSpec{Name: "otelcol", Path: otelcol,
		Args: []string{"--config", cfg}, StopTimeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	n, _ := c.Topology.Node("node1")
	dial := kube.NetnsDialer(n.Netns)
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := dial(ctx, "tcp", collectorAddr)
		if err == nil {
			_ = conn.Close()
			return
		}
		select {
		case <-p.Done():
			b.Fatalf("collector exited: %v", p.Err())
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("collector not listening after 30s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
