package agent

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/agent/flowmetrics"
	"github.com/foveanet/fovea/agent/retina"
	"github.com/foveanet/fovea/api/metrics"
	"github.com/foveanet/fovea/model/record"
)

// TestScrapePassesPromtool: a real scrape of an agent counting flows with
// every handler passes `promtool check metrics`, Prometheus's own lint.
func TestScrapePassesPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool (Debian package prometheus) is needed; scripts/install-deps.sh installs it: %v", err)
	}
	log := slog.New(slog.DiscardHandler)
	cfg := Config{NodeName: "node1", ClusterName: "c1", InternSweepInterval: time.Second, RetinaMetrics: "advanced",
		Metrics: "flow:sourceContext=pod|ip;destinationContext=pod|ip drop tcp dns:query port-distribution icmp flows-to-world:port"}
	a, obs := unloadedAgent(t, cfg, log)
	reg := metrics.NewRegistry()
	if err := a.instruments(obs).register(reg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = a.flowMetrics.Run(ctx) }()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = metrics.Serve(ctx, lis, reg, log) }()

	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("203.0.113.7")
	forwarded, dropped := uint8(flowpb.Verdict_FORWARDED), uint8(flowpb.Verdict_DROPPED)
	for _, r := range []record.Record{
		{Kind: record.KindTrace, Proto: record.ProtoTCP, SrcPort: 40000, DstPort: 443, TCPFlags: record.TCPSyn,
			Verdict: forwarded, ObsPoint: uint8(flowpb.TraceObservationPoint_TO_NETWORK)},
		{Kind: record.KindTrace, Proto: record.ProtoUDP, SrcPort: 40001, DstPort: 53,
			Verdict: forwarded, ObsPoint: uint8(flowpb.TraceObservationPoint_FROM_ENDPOINT)},
		{Kind: record.KindDrop, Proto: record.ProtoTCP, SrcPort: 40002, DstPort: 22, TCPFlags: record.TCPSyn,
			Verdict: dropped, DropReason: uint16(flowpb.DropReason_POLICY_DENIED)},
		{Kind: record.KindTrace, Proto: record.ProtoICMP, ICMPType: 8,
			Verdict: forwarded, ObsPoint: uint8(flowpb.TraceObservationPoint_TO_NETWORK)},
		{Kind: record.KindLost, LostSource: uint8(flowpb.LostEventSource_PERF_EVENT_RING_BUFFER), Count: 3},
	} {
		r.SetAddrs(src, dst)
		if r.Kind == record.KindTrace {
			r.SetReply(false)
		}
		a.enr.pipeline.emit(&r)
	}

	var body []byte
	deadline := time.Now().Add(10 * time.Second)
	for {
		body = get(t, "http://"+lis.Addr().String()+"/metrics")
		if bytes.Contains(body, []byte(`hubble_flows_processed_total{destination="203.0.113.7",protocol="ICMPv4"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the flows were not counted in 10 s:\n%s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{"hubble_tcp_flags_total{", "hubble_drop_total{", "hubble_port_distribution_total{",
		"hubble_icmp_total{", "hubble_flows_to_world_total{", `hubble_lost_events_total{source="perf_event_ring_buffer"} 3`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if !bytes.Contains(body, []byte(`networkobservability_tcp_state{cluster="c1",instance="node1",state="LISTEN"}`)) {
		t.Errorf("scrape lacks Retina's node series with the cluster and instance labels")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, _ := cmd.CombinedOutput()
	// Retina's counters are named without _total, some with _count: its
	// names are its dashboards' contract.
	retinaCounters := append(slices.Clone(retina.CounterNames), flowmetrics.RetinaCounterNames...)
	for line := range strings.Lines(string(out)) {
		name, complaint, _ := strings.Cut(strings.TrimSpace(line), " ")
		if slices.Contains(retinaCounters, name) && (complaint == `counter metrics should have "_total" suffix` ||
			complaint == `non-histogram and non-summary metrics should not have "_count" suffix`) {
			continue
		}
		t.Errorf("promtool check metrics: %s", line)
	}
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestMetricsConfigReload: an agent counting the metrics of a config file
// follows its changes, and publishes each reload and each refusal as an
// agent event.
func TestMetricsConfigReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.yaml")
	if err := os.WriteFile(path, []byte("metrics: [{name: flow}]"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{NodeName: "node1", InternSweepInterval: time.Second, MetricsConfig: path, MetricsConfigInterval: 5 * time.Millisecond}
	a, obs := unloadedAgent(t, cfg, slog.New(slog.DiscardHandler))
	reg := metrics.NewRegistry()
	if err := a.instruments(obs).register(reg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = a.metricsConfig.Run(ctx) }()

	write := func(data string) {
		t.Helper()
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	// waitEvent waits for an agent event of typ whose detail contains
	// detail, and returns the sequence number after it.
	waitEvent := func(from uint64, typ, detail string) uint64 {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			events, more := a.dp.events.Since(from)
			for _, e := range events {
				from = e.Seq + 1
				if u := e.Event.GetUnknown(); u.GetType() == typ && strings.Contains(u.GetNotification(), detail) {
					return from
				}
			}
			select {
			case <-more:
			case <-deadline:
				t.Fatalf("no agent event %s with %q", typ, detail)
			}
		}
	}

	write("metrics: [{name: flow}, {name: icmp}]")
	seq := waitEvent(0, "metrics_config_reloaded", "metrics: flow, icmp")
	write("metrics: [{name: icmp, contextOptions: [{name: sourceContext, values: [namespaces]}]}]")
	waitEvent(seq, "metrics_config_rejected", `apply metrics config: metric icmp: option sourceContext: unknown context "namespaces"`)

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			values[f.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	if values["fovea_metrics_config_errors_total"] != 1 || values["fovea_metrics_config_loads_total"] != 2 ||
		values["fovea_metrics_config_last_reload_successful"] != 0 {
		t.Errorf("config series = %v", values)
	}
}
