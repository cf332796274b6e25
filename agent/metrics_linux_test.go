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
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/ringbuffer"
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
	base := Config{NodeName: "node1", InternSweepInterval: time.Second}
	fromInventory, fromKubernetes := base, base
	fromInventory.Inventory, fromInventory.InventoryInterval = inventory, time.Second
	fromKubernetes.Kubeconfig = kubeconfig
	metricstest.Golden(t, filepath.Join("testdata", "metrics.golden"),
		registry(t, fromInventory), registry(t, fromKubernetes))
}

// registry builds the components Run builds for cfg, but the datapath, and
// registers them as Run does.
func registry(t *testing.T, cfg Config) *metrics.Registry {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	tables := intern.NewTables()
	node := flowview.NewNode(cfg.NodeName, cfg.ClusterName, "test", nil, tables)
	ring, err := ringbuffer.New[record.Record](15)
	if err != nil {
		t.Fatal(err)
	}
	parser, names, store, err := newDNS(tables, int(ring.Cap()))
	if err != nil {
		t.Fatal(err)
	}
	_, _, feed, err := newEndpoints(cfg, node, observer.NewAgentEvents(), log)
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline{ring: ring, endpoints: tables.Endpoints}
	sweeper, err := newSweeper(cfg, tables, nil, datapathSeries{}, log)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := observer.New(ring, node)
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	if err := (instruments{
		ring: newRingCollector(ring, &p.seen), tables: tables, l7: store, names: names, parser: parser,
		source: datapathSeries{}, sweeper: sweeper, observer: obs, feed: feed,
	}).register(reg); err != nil {
		t.Fatal(err)
	}
	return reg
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

type describeOnly struct{ prometheus.Collector }

func (describeOnly) Collect(chan<- prometheus.Metric) {}
