package agent

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/api/metrics"
	"github.com/foveanet/fovea/api/metrics/metricstest"
	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/bpf"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// TestMetricsGolden lists every series the agent exposes, with its
// endpoints fed by the inventory file and by the Kubernetes API in turn, in
// testdata/metrics.golden.
func TestMetricsGolden(t *testing.T) {
	dir := t.TempDir()
	inventory, kubeconfig := filepath.Join(dir, "inventory.yaml"), filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(inventory, []byte("pods: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Nothing is dialled: the watcher is built, not run.
	const cfg = "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\n" +
		"users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// Every handler, so that every Hubble series is listed.
	base := Config{NodeName: "node1", InternSweepInterval: time.Second,
		Metrics: "flow drop tcp dns port-distribution icmp flows-to-world policy", RetinaMetrics: "advanced"}
	fromInventory, fromKubernetes := base, base
	fromInventory.Inventory, fromInventory.InventoryInterval = inventory, time.Second
	// A flow log configuration, so that its watcher's series are listed.
	flowlogs := filepath.Join(dir, "flowlogs.yaml")
	if err := os.WriteFile(flowlogs, []byte("flowLogs: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromInventory.FlowlogsConfig, fromInventory.FlowlogsConfigInterval = flowlogs, time.Second
	fromKubernetes.Kubeconfig, fromKubernetes.NetworkPolicies = kubeconfig, true
	// The flow metrics from a config file add its health.
	metricsConfig := filepath.Join(dir, "metrics.yaml")
	if err := os.WriteFile(metricsConfig, []byte("metrics: [{name: flow}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile := Config{NodeName: "node1", InternSweepInterval: time.Second, MetricsConfig: metricsConfig, MetricsConfigInterval: time.Second}
	metricstest.Golden(t, filepath.Join("testdata", "metrics.golden"),
		registry(t, fromInventory), registry(t, fromKubernetes), registry(t, fromFile))
}

// registry builds what Run builds for cfg, with a datapath that is
// described but not loaded, and registers it as Run does.
func registry(t *testing.T, cfg Config) *metrics.Registry {
	t.Helper()
	a, obs := unloadedAgent(t, cfg, slog.New(slog.DiscardHandler))
	reg := metrics.NewRegistry()
	if err := a.instruments(obs).register(reg); err != nil {
		t.Fatal(err)
	}
	return reg
}

// unloadedAgent builds what Run builds for cfg up to the server, through
// Run's own steps, with the eBPF datapath stood in by datapathSeries.
func unloadedAgent(t *testing.T, cfg Config, log *slog.Logger) (*agent, *observer.Server) {
	t.Helper()
	cfg.RingCapacity = 15
	cfg.MetricsSeriesTTL, cfg.MetricsSeriesLimit = time.Minute, 100
	unloaded := func(Config, *slog.Logger, *intern.Tables, bpf.L7Parser, *observer.AgentEvents, func()) (Source, error) {
		return datapathSeries{}, nil
	}
	a := &agent{cfg: cfg, log: log}
	var err error
	if a.dp, err = newDatapath(cfg, log, unloaded); err != nil {
		t.Fatal(err)
	}
	if a.enr, err = newEnrichment(cfg, a.dp, log); err != nil {
		t.Fatal(err)
	}
	obs, err := newObserver(cfg, a.dp, a.enr.pipeline, log)
	if err != nil {
		t.Fatal(err)
	}
	if a.flowMetrics, a.metricsConfig, err = newFlowMetrics(cfg, a.dp, obs, a.enr.pods, log); err != nil {
		t.Fatal(err)
	}
	a.enr.pipeline.flowMetrics = a.flowMetrics
	if a.retinaNode, err = newRetinaNode(cfg, a.dp.src, log); err != nil {
		t.Fatal(err)
	}
	if a.export, err = newExport(cfg, a.dp, log); err != nil {
		t.Fatal(err)
	}
	return a, obs
}

// datapathSeries is a Source that describes the eBPF datapath's series
// without loading it, which needs privileges: a bpf.Source not loaded
// describes them, though it has nothing to collect.
type datapathSeries struct{}

func (datapathSeries) Run(context.Context, func(*record.Record)) error { return nil }
func (datapathSeries) Close() error                                    { return nil }
func (datapathSeries) Collector() prometheus.Collector {
	return describeOnly{new(bpf.Source).Collector()}
}

// The counters Retina's node series read, empty.
func (datapathSeries) ForwardCounts() ([]bpf.ForwardCount, error) { return nil, nil }
func (datapathSeries) DropCounts() []bpf.DropCount                { return nil }

type describeOnly struct{ prometheus.Collector }

func (describeOnly) Collect(chan<- prometheus.Metric) {}
