//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/kube"
	"github.com/foveanet/fovea/test/traffic"
)

const (
	// exportPrefix keeps the export tests' cluster apart: they stop
	// collectors and fill disks, which the other tests must not see.
	exportPrefix = "foveaexp-"
	// exportMetrics is where agents serve /metrics, in their node's
	// namespace.
	exportMetrics = "127.0.0.1:9965"
	// collectorAddr is where each node's collector receives OTLP, on the
	// node namespace's loopback.
	collectorAddr = "127.0.0.1:4317"
	// The OTLP queue is small, so that an outage overflows it.
	exportQueue, exportBatch = 64, 16
)

// exportEnv is a two-node cluster whose agents write a flow log, a
// dynamic flow log on a small tmpfs, and OTLP logs to an OpenTelemetry
// Collector in their node's namespace.
type exportEnv struct {
	*env
	otelcol    string
	collectors map[string]*cluster.Process // node → collector
	tmpfs      map[string]string           // node → tmpfs of its dynamic logs
	life       context.Context
}

func setupExport(t *testing.T) *exportEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: builds network namespaces, mounts tmpfs and loads eBPF programs")
	}
	// make e2e names the collector; by hand, make otel-tools builds it
	// where this finds it.
	otelcol := os.Getenv("OTELCOL_BIN")
	if otelcol == "" {
		otelcol, _ = filepath.Abs("../../.bin/otelcol")
	}
	if _, err := os.Stat(otelcol); err != nil {
		t.Fatalf("no OpenTelemetry Collector (OTELCOL_BIN, or `make otel-tools`): %v", err)
	}
	// The tmpfs, in the state directory, are unmounted once the cluster is
	// gone, so no agent holds them (ownCluster's cleanup, registered after
	// this one, runs first), and before the directory is removed.
	stateDir := t.TempDir()
	tmpfs := map[string]string{}
	t.Cleanup(func() {
		for _, dir := range tmpfs {
			if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
				t.Errorf("umount %s: %v: %s", dir, err, out)
			}
		}
	})
	e, life := ownCluster(t, cluster.Config{Prefix: exportPrefix, Nodes: 2, PodsPerNode: 2, StateDir: stateDir})
	ee := &exportEnv{env: e, otelcol: otelcol, collectors: map[string]*cluster.Process{}, tmpfs: tmpfs, life: life}
	for _, n := range e.cluster.Topology.Nodes {
		ee.startCollector(t, n.Name, "otel.json")
		ee.startAgent(t, n.Name)
	}
	if err := e.serve(life); err != nil {
		t.Fatal(err)
	}
	return ee
}

// startCollector runs the OpenTelemetry Collector in node's namespace,
// writing what it receives to file in the node's state directory, and
// waits until it listens.
func (ee *exportEnv) startCollector(t *testing.T, node, file string) {
	t.Helper()
	dir := ee.cluster.NodeStateDir(node)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "otelcol-"+file+".yaml")
	yaml := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
exporters:
  file:
    path: %s
    flush_interval: 100ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file]
`, collectorAddr, filepath.Join(dir, file))
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := ee.cluster.StartProcess(ee.life, node, cluster.ProcessSpec{Name: "otelcol", Path: ee.otelcol,
		Args: []string{"--config", cfg}, StopTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ee.collectors[node] = p
	n, _ := ee.cluster.Topology.Node(node)
	dial := kube.NetnsDialer(n.Netns)
	eventually(t, 30*time.Second, func() error {
		select {
		case <-p.Done():
			t.Fatalf("collector on %s exited: %v", node, p.Err())
		default:
		}
		conn, err := dial(context.Background(), "tcp", collectorAddr)
		if err != nil {
			return err
		}
		return conn.Close()
	})
}

// startAgent runs node's agent with a static flow log, a dynamic one on
// a 2 MiB tmpfs, and OTLP export to its node's collector.
func (ee *exportEnv) startAgent(t *testing.T, node string) {
	t.Helper()
	dir := ee.cluster.NodeStateDir(node)
	small := filepath.Join(dir, "small")
	if err := os.MkdirAll(small, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "fovea-export", small).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	ee.tmpfs[node] = small
	ee.writeFlowlogs(t, node, "small", filepath.Join(small, "flows.log"))
	sock, _, err := demo.StartAgent(ee.life, ee.cluster, node, ee.fovea, ringCapacity,
		demo.WithInventory(ee.inventory), demo.WithMetricsAddress(exportMetrics),
		demo.WithAgentArgs(
			"--export-file-path", filepath.Join(dir, "flows.log"),
			"--flowlogs-config", filepath.Join(dir, "flowlogs.yaml"), "--flowlogs-config-interval", "200ms",
			"--otlp-endpoint", collectorAddr, "--otlp-insecure", "--otlp-batch-timeout", "200ms",
			"--otlp-batch-size", fmt.Sprint(exportBatch), "--otlp-queue-size", fmt.Sprint(exportQueue)))
	if err != nil {
		t.Fatal(err)
	}
	ee.sockets[node] = sock
}

// writeFlowlogs makes node's dynamic flow log configuration one log, name,
// writing TCP flows to path.
func (ee *exportEnv) writeFlowlogs(t *testing.T, node, name, path string) {
	t.Helper()
	file := filepath.Join(ee.cluster.NodeStateDir(node), "flowlogs.yaml")
	yaml := fmt.Sprintf("flowLogs:\n- name: %s\n  filePath: %s\n  includeFilters: [{protocol: [tcp]}]\n  fileMaxSizeMb: 1\n  fileMaxBackups: 1\n", name, path)
	if err := os.WriteFile(file+".tmp", []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file+".tmp", file); err != nil {
		t.Fatal(err)
	}
}

// metric is the value of an agent's series name with labels, 0 if absent.
func (ee *exportEnv) metric(t *testing.T, node, name string, labels ...string) float64 {
	t.Helper()
	s, err := scrapeMetrics(t.Context(), ee.cluster, node, exportMetrics)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := s.value(name, labels...)
	return v
}

// conversation makes a TCP connection from pod 0 (node 1) to pod 2 (node
// 2) and returns it with the flows node 1's agent shows for it.
func (ee *exportEnv) conversation(t *testing.T) (traffic.Conn, []*flowpb.Flow) {
	t.Helper()
	src, _ := ee.pod(0)
	dst, _ := ee.pod(2)
	c, err := traffic.TCPShort(context.Background(), src, dst, traffic.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	return c, ee.conversationFlows(t, c)
}

// collected reads the records a collector wrote to file in node's state
// directory, with their resources' attributes: each line is an
// ExportLogsServiceRequest in OTLP/JSON.
func (ee *exportEnv) collected(t *testing.T, node, file string) (records []*logspb.LogRecord, resources []map[string]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ee.cluster.NodeStateDir(node), file))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 16<<20), 16<<20)
	for sc.Scan() {
		var req collogspb.ExportLogsServiceRequest
		if err := protojson.Unmarshal(sc.Bytes(), &req); err != nil {
			// The collector may be writing the line.
			continue
		}
		for _, rl := range req.GetResourceLogs() {
			res := stringAttrs(rl.GetResource().GetAttributes())
			for _, sl := range rl.GetScopeLogs() {
				for _, r := range sl.GetLogRecords() {
					records, resources = append(records, r), append(resources, res)
				}
			}
		}
	}
	return records, resources
}

// stringAttrs renders attributes as strings, integers and booleans in
// decimal and true/false.
func stringAttrs(kvs []*commonpb.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.GetKey()] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.GetKey()] = fmt.Sprint(v.IntValue)
		case *commonpb.AnyValue_BoolValue:
			out[kv.GetKey()] = fmt.Sprint(v.BoolValue)
		}
	}
	return out
}

// bodyFlow decodes a LogRecord's body, a flow in JSON.
func bodyFlow(t *testing.T, r *logspb.LogRecord) *flowpb.Flow {
	t.Helper()
	var f flowpb.Flow
	if err := protojson.Unmarshal([]byte(r.GetBody().GetStringValue()), &f); err != nil {
		t.Fatalf("body %q: %v", r.GetBody().GetStringValue(), err)
	}
	return &f
}

// readFlowLog runs the real `hubble observe --input-file` on a flow log of
// node with args and returns the flows it prints.
func (ee *exportEnv) readFlowLog(t *testing.T, path string, args ...string) []*flowpb.Flow {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ee.hubbleBin, append([]string{"observe", "--input-file", path, "-o", "json"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("hubble observe --input-file %s: %v\n%s", path, err, stderr.String())
	}
	return decodeFlows(t, stdout.String())
}

// TestExport runs the agents' exporters in a cluster of their own: the
// flows `hubble observe` shows reach the flow log, which the real CLI
// reads back, and the OpenTelemetry Collector with their attributes; a
// collector that goes away and comes back loses nothing beyond the queue,
// which is counted; a full disk is reported and recovered from; and a live
// configuration change adds and removes flow logs.
func TestExport(t *testing.T) {
	ee := setupExport(t)
	node := ee.cluster.Topology.Nodes[0].Name
	t.Run("flows-reach-file-and-collector", func(t *testing.T) { ee.testFlowsReachFileAndCollector(t, node) })
	t.Run("collector-down-and-back", func(t *testing.T) { ee.testCollectorDownAndBack(t, node) })
	t.Run("full-disk-and-config-change", func(t *testing.T) { ee.testFullDiskAndConfigChange(t, node) })
}

func (ee *exportEnv) testFlowsReachFileAndCollector(t *testing.T, node string) {
	c, flows := ee.conversation(t)
	byUUID := map[string]*flowpb.Flow{}
	for _, f := range flows {
		byUUID[f.GetUuid()] = f
	}

	// The collector: one record per flow, with the flow as body and its
	// attributes.
	eventually(t, 20*time.Second, func() error {
		records, resources := ee.collected(t, node, "otel.json")
		found := 0
		for i, r := range records {
			want, ok := byUUID[bodyFlow(t, r).GetUuid()]
			if !ok {
				continue
			}
			found++
			if got := bodyFlow(t, r); !proto.Equal(got, want) {
				t.Fatalf("collector's body\n%v\nhubble's flow\n%v", got, want)
			}
			if r.GetTimeUnixNano() != uint64(want.GetTime().AsTime().UnixNano()) {
				t.Errorf("record time %d, flow time %v", r.GetTimeUnixNano(), want.GetTime().AsTime())
			}
			sport, dport := ports(want)
			a := stringAttrs(r.GetAttributes())
			for k, v := range map[string]string{
				"source.address": want.GetIP().GetSource(), "destination.address": want.GetIP().GetDestination(),
				"source.port": fmt.Sprint(sport), "destination.port": fmt.Sprint(dport),
				"network.transport": "tcp", "network.type": "ipv4",
				"hubble.source.pod": want.GetSource().GetPodName(), "hubble.destination.pod": want.GetDestination().GetPodName(),
				"hubble.source.namespace": want.GetSource().GetNamespace(),
				"hubble.verdict":          want.GetVerdict().String(), "hubble.traffic_direction": want.GetTrafficDirection().String(),
			} {
				if a[k] != v {
					t.Errorf("record of flow %s: %s=%q, want %q (attributes %v)", want.GetUuid(), k, a[k], v, a)
				}
			}
			if a["k8s.pod.name"] != want.GetSource().GetPodName() && a["k8s.pod.name"] != want.GetDestination().GetPodName() {
				t.Errorf("record of flow %s: k8s.pod.name=%q names neither end", want.GetUuid(), a["k8s.pod.name"])
			}
			if res := resources[i]; res["k8s.node.name"] != node || res["k8s.cluster.name"] != "default" {
				t.Errorf("resource %v, want node %s of cluster default", res, node)
			}
		}
		if found < len(flows) {
			return fmt.Errorf("collector has %d of the %d flows of %v", found, len(flows), c)
		}
		return nil
	})

	// The flow log, read back by the real CLI with its own filters.
	path := filepath.Join(ee.cluster.NodeStateDir(node), "flows.log")
	eventually(t, 10*time.Second, func() error {
		got := map[string]*flowpb.Flow{}
		for _, f := range ee.readFlowLog(t, path, "--ip", c.Src.IP.String(), "--ip", c.Dst.IP.String()) {
			got[f.GetUuid()] = f
		}
		for id, want := range byUUID {
			if f, ok := got[id]; !ok {
				return fmt.Errorf("flow log has %d flows of %v, not %s", len(got), c, id)
			} else if !proto.Equal(f, want) {
				t.Fatalf("flow log's\n%v\nhubble's\n%v", f, want)
			}
		}
		return nil
	})
}

func (ee *exportEnv) testCollectorDownAndBack(t *testing.T, node string) {
	// The same conversations with the collector up, then down: the agent
	// captures and serves every one of them either way, and the ring's
	// write rates (logged) follow the traffic, not the collector.
	ee.converse(t, node, "up")
	// Flows of those conversations may still be on their way: the agent
	// reports the outage from when the collector starts going away.
	start := time.Now()
	if err := ee.collectors[node].Stop(); err != nil {
		t.Logf("stop collector: %v", err)
	}
	sentBefore := ee.metric(t, node, "fovea_export_events_total", "exporter", "otlp")
	droppedBefore := ee.metric(t, node, "fovea_export_dropped_events_total", "exporter", "otlp", "reason", "queue_full")
	ee.converse(t, node, "down")
	var queued float64
	eventually(t, 20*time.Second, func() error {
		queued = ee.metric(t, node, "fovea_export_queue_records", "exporter", "otlp")
		dropped := ee.metric(t, node, "fovea_export_dropped_events_total", "exporter", "otlp", "reason", "queue_full") - droppedBefore
		if dropped == 0 || ee.metric(t, node, "fovea_export_healthy", "exporter", "otlp") != 0 {
			return fmt.Errorf("queue holds %.0f, %.0f dropped for a full queue; want drops and the exporter unhealthy", queued, dropped)
		}
		return nil
	})
	dropped := ee.metric(t, node, "fovea_export_dropped_events_total", "exporter", "otlp", "reason", "queue_full") - droppedBefore
	if queued > exportQueue+exportBatch {
		t.Errorf("queue holds %.0f records, more than its %d and a batch", queued, exportQueue)
	}

	ee.startCollector(t, node, "otel-2.json")
	eventually(t, 60*time.Second, func() error { // the retry backoff reaches 30 s
		if q := ee.metric(t, node, "fovea_export_queue_records", "exporter", "otlp"); q != 0 {
			return fmt.Errorf("queue still holds %.0f records", q)
		}
		if ee.metric(t, node, "fovea_export_healthy", "exporter", "otlp") != 1 {
			return fmt.Errorf("exporter not healthy yet")
		}
		return nil
	})
	sent := ee.metric(t, node, "fovea_export_events_total", "exporter", "otlp") - sentBefore
	eventually(t, 10*time.Second, func() error {
		got, _ := ee.collected(t, node, "otel-2.json")
		if float64(len(got)) != sent {
			return fmt.Errorf("the restarted collector has %d records, the agent counts %.0f sent since it stopped", len(got), sent)
		}
		return nil
	})
	if sent < queued {
		t.Errorf("%.0f records sent after the outage, fewer than the %.0f queued", sent, queued)
	}
	t.Logf("collector back: %.0f records delivered from the queue and after, %.0f dropped for a full queue and counted", sent, dropped)
	// The outage is told as it starts, and its drops when it ends (drops
	// are reported at most once per 30 s, and a burst before the outage
	// may have had its report).
	if ee.agentEvent(t, ee.sockets[node], "export_failing", start) == nil {
		t.Error("no agent event export_failing")
	}
	if ev := ee.agentEvent(t, ee.sockets[node], "export_recovered", start); ev == nil {
		t.Error("no agent event export_recovered")
	} else if msg := ev.GetAgentEvent().GetUnknown().GetNotification(); strings.Contains(msg, "after dropping 0 ") {
		t.Errorf("export_recovered says %q, want the drops counted", msg)
	}
	// Flows made now arrive.
	_, flows := ee.conversation(t)
	eventually(t, 10*time.Second, func() error {
		got, _ := ee.collected(t, node, "otel-2.json")
		seen := map[string]bool{}
		for _, r := range got {
			seen[bodyFlow(t, r).GetUuid()] = true
		}
		for _, f := range flows {
			if !seen[f.GetUuid()] {
				return fmt.Errorf("flow %s not at the restarted collector", f.GetUuid())
			}
		}
		return nil
	})
}

// converse makes 40 TCP conversations from pod 0 to pod 2, checks that
// node's agent serves the requests and replies of each, and logs the rate
// of ring writes meanwhile.
func (ee *exportEnv) converse(t *testing.T, node, collector string) {
	t.Helper()
	src, sock := ee.pod(0)
	dst, _ := ee.pod(2)
	writesBefore, start := ee.metric(t, node, "fovea_ring_writes_total"), time.Now()
	conns := make([]traffic.Conn, 40)
	for i := range conns {
		c, err := traffic.TCPShort(context.Background(), src, dst, traffic.IPv4)
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	elapsed := time.Since(start)
	eventually(t, 10*time.Second, func() error {
		flows := ee.observeJSON(t, sock, "--last", "100000", "--ip", src.IPv4.String(), "--ip", dst.IPv4.String())
		for _, c := range conns {
			if req, rep := connFlows(c, flows); len(req) == 0 || len(rep) == 0 {
				return fmt.Errorf("collector %s: %d requests and %d replies of %v served", collector, len(req), len(rep), c)
			}
		}
		return nil
	})
	// Counted once all are served: the ring is written as the kernel's
	// events are read, after the traffic.
	writes := ee.metric(t, node, "fovea_ring_writes_total") - writesBefore
	t.Logf("collector %s: %d conversations in %v, %.0f ring writes for them, each served", collector, len(conns),
		elapsed.Round(time.Millisecond), writes)
	if writes < float64(4*len(conns)) {
		t.Errorf("collector %s: %.0f ring writes for %d TCP conversations, want at least 4 each", collector, writes, len(conns))
	}
}

// conversationFlows waits until node 1's agent shows requests and replies
// of c, and returns them.
func (ee *exportEnv) conversationFlows(t *testing.T, c traffic.Conn) []*flowpb.Flow {
	t.Helper()
	_, sock := ee.pod(0)
	var flows []*flowpb.Flow
	eventually(t, 10*time.Second, func() error {
		req, rep := connFlows(c, ee.observeJSON(t, sock, "--last", "100000", "--ip", c.Src.IP.String(), "--ip", c.Dst.IP.String()))
		if len(req) == 0 || len(rep) == 0 {
			return fmt.Errorf("%d requests and %d replies of %v", len(req), len(rep), c)
		}
		flows = append(req, rep...)
		return nil
	})
	return flows
}

// agentEvent returns the newest agent event of type typ at sock no older
// than since, or nil.
func (ee *exportEnv) agentEvent(t *testing.T, sock, typ string, since time.Time) *observerpb.GetAgentEventsResponse {
	t.Helper()
	out := ee.hubble(t, sock, "observe", "agent-events", "--last", "1000", "-o", "json")
	var found *observerpb.GetAgentEventsResponse
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var resp observerpb.GetAgentEventsResponse
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(sc.Bytes(), &resp); err != nil {
			t.Fatalf("decode hubble agent-events line %q: %v", sc.Text(), err)
		}
		if resp.GetAgentEvent().GetUnknown().GetType() == typ && !resp.GetTime().AsTime().Before(since) {
			found = &resp
		}
	}
	return found
}

func (ee *exportEnv) testFullDiskAndConfigChange(t *testing.T, node string) {
	small := filepath.Join(ee.tmpfs[node], "flows.log")
	ee.conversation(t)
	eventually(t, 10*time.Second, func() error {
		if ee.metric(t, node, "fovea_export_events_total", "exporter", "small") == 0 {
			return fmt.Errorf("nothing written to the dynamic log yet")
		}
		return nil
	})

	// Fill the tmpfs: writes fail, the agent reports it and goes on.
	filler := filepath.Join(ee.tmpfs[node], "filler")
	if out, err := exec.Command("dd", "if=/dev/zero", "of="+filler, "bs=64k").CombinedOutput(); err == nil || !strings.Contains(string(out), "No space left") {
		t.Fatalf("fill the tmpfs: %v: %s", err, out)
	}
	start := time.Now()
	eventually(t, 20*time.Second, func() error {
		ee.conversation(t)
		if ee.metric(t, node, "fovea_export_dropped_events_total", "exporter", "small", "reason", "write_failed") == 0 ||
			ee.metric(t, node, "fovea_export_healthy", "exporter", "small") != 0 {
			return fmt.Errorf("no failed write counted yet")
		}
		return nil
	})
	if ee.agentEvent(t, ee.sockets[node], "export_dropped", start) == nil {
		t.Error("no agent event export_dropped for the full disk")
	}
	// Space returns: the log writes again, and its new lines read back.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	c, flows := ee.conversation(t)
	eventually(t, 20*time.Second, func() error {
		if ee.metric(t, node, "fovea_export_healthy", "exporter", "small") != 1 {
			return fmt.Errorf("the log has not recovered")
		}
		got := map[string]bool{}
		for _, f := range ee.readFlowLog(t, small, "--ip", c.Src.IP.String()) {
			got[f.GetUuid()] = true
		}
		for _, f := range flows {
			if !got[f.GetUuid()] {
				return fmt.Errorf("flow %s not in the log after space returned", f.GetUuid())
			}
		}
		return nil
	})
	if ee.agentEvent(t, ee.sockets[node], "export_recovered", start) == nil {
		t.Error("no agent event export_recovered")
	}

	// A live change: the log on the tmpfs goes, another comes.
	other := filepath.Join(ee.cluster.NodeStateDir(node), "other.log")
	ee.writeFlowlogs(t, node, "other", other)
	// It starts at the flows written from then on: wait for its first
	// line, the node status saying so.
	eventually(t, 10*time.Second, func() error {
		if fi, err := os.Stat(other); err != nil || fi.Size() == 0 {
			return fmt.Errorf("the added log has not started: %v", err)
		}
		return nil
	})
	c, flows = ee.conversation(t)
	eventually(t, 10*time.Second, func() error {
		got := map[string]bool{}
		for _, f := range ee.readFlowLog(t, other, "--ip", c.Src.IP.String()) {
			got[f.GetUuid()] = true
		}
		for _, f := range flows {
			if !got[f.GetUuid()] {
				return fmt.Errorf("flow %s not in the added log", f.GetUuid())
			}
		}
		return nil
	})
	data, err := os.ReadFile(small)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("removed from the flow log configuration")) {
		t.Error("the removed log does not end with a node status saying so")
	}
	if ee.metric(t, node, "fovea_export_running", "exporter", "small") != 0 {
		t.Error("the removed log still reports running")
	}
}
