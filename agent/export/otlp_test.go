package export

import (
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/foveanet/fovea/model/record"
)

// fakeCollector is an OTLP logs receiver on a loopback port that can be
// stopped and started again on the same port.
type fakeCollector struct {
	collogspb.UnimplementedLogsServiceServer
	t    testing.TB
	addr string
	gs   *grpc.Server
	// fail, if set, answers each call instead of taking it.
	fail func() error
	// discard counts records instead of keeping them.
	discard  bool
	received atomic.Int64

	mu      sync.Mutex
	records []*logspb.LogRecord
	rls     []*logspb.ResourceLogs
	auth    []string
}

func newCollector(t testing.TB) *fakeCollector {
	c := &fakeCollector{t: t, addr: "127.0.0.1:0"}
	c.start()
	t.Cleanup(c.stop)
	return c
}

func (c *fakeCollector) start() {
	c.t.Helper()
	lis, err := net.Listen("tcp", c.addr)
	if err != nil {
		c.t.Fatal(err)
	}
	c.addr = lis.Addr().String()
	c.gs = grpc.NewServer()
	collogspb.RegisterLogsServiceServer(c.gs, c)
	go c.gs.Serve(lis)
}

func (c *fakeCollector) stop() { c.gs.Stop() }

func (c *fakeCollector) Export(ctx context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		if err := c.fail(); err != nil {
			return nil, err
		}
	}
	if c.discard {
		for _, rl := range req.GetResourceLogs() {
			for _, sl := range rl.GetScopeLogs() {
				c.received.Add(int64(len(sl.GetLogRecords())))
			}
		}
		return &collogspb.ExportLogsServiceResponse{}, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	c.auth = append(c.auth, md.Get("authorization")...)
	for _, rl := range req.GetResourceLogs() {
		c.rls = append(c.rls, rl)
		for _, sl := range rl.GetScopeLogs() {
			c.records = append(c.records, sl.GetLogRecords()...)
		}
	}
	return &collogspb.ExportLogsServiceResponse{}, nil
}

func (c *fakeCollector) got() []*logspb.LogRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.records)
}

func (c *fakeCollector) otlp(name string) OTLP {
	return OTLP{
		Name: name,
		Dial: func() (*grpc.ClientConn, error) {
			return grpc.NewClient(c.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		},
		BatchSize: 10, BatchTimeout: 50 * time.Millisecond, QueueSize: 40, Timeout: time.Second,
		retryFirst: 20 * time.Millisecond, retryMax: 100 * time.Millisecond, retryFor: time.Minute,
	}
}

func attrs(kvs []*commonpb.KeyValue) map[string]any {
	out := map[string]any{}
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.GetKey()] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.GetKey()] = v.IntValue
		case *commonpb.AnyValue_BoolValue:
			out[kv.GetKey()] = v.BoolValue
		}
	}
	return out
}

// TestOTLPSendsFlowsAsLogRecords exports filtered flows of two pods to a
// fakeCollector: one LogRecord per flow with the flow's time, its masked JSON
// as body, the semantic conventions' attributes and Hubble's, the node and
// cluster as resource, and the headers on every call.
func TestOTLPSendsFlowsAsLogRecords(t *testing.T) {
	e := newEnv(t, 1023)
	coll := newCollector(t)
	m := NewManager(e.ring, e.node)
	o := coll.otlp("otlp")
	o.Headers = map[string]string{"authorization": "Bearer s3cret"}
	o.IncludeFilters = mustFilters(t, `{"destination_port":["80"]}`)
	o.FieldMask = []string{"time", "verdict", "l4"}
	if err := m.AddOTLP(o); err != nil {
		t.Fatal(err)
	}
	runManager(t, m)
	eventually(t, "the exporter runs", func() bool { return statusOf(m, "otlp") != nil })

	client := e.node.Tables.Endpoints.Intern("shop/client", func() *flowpb.Endpoint {
		return &flowpb.Endpoint{Namespace: "shop", PodName: "client"}
	})
	server := e.node.Tables.Endpoints.Intern("shop/server", func() *flowpb.Endpoint {
		return &flowpb.Endpoint{Namespace: "shop", PodName: "server"}
	})
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for i, port := range []uint16{80, 443, 80} {
		rec := record.Record{Kind: record.KindTrace, Proto: record.ProtoTCP, Time: at.Add(time.Duration(i) * time.Second).UnixNano(),
			SrcPort: 40000 + uint16(i), DstPort: port, SrcEndpoint: client, DstEndpoint: server,
			ObsPoint: uint8(flowpb.TraceObservationPoint_FROM_ENDPOINT), Verdict: uint8(flowpb.Verdict_FORWARDED),
			Flags: record.FlagReplyKnown}
		if i == 2 {
			rec.Kind, rec.Verdict = record.KindDrop, uint8(flowpb.Verdict_DROPPED)
			rec.DropReason = uint16(flowpb.DropReason_POLICY_DENIED)
		}
		rec.SetAddrs(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"))
		e.ring.Write(&rec)
	}
	var got []*logspb.LogRecord
	eventually(t, "two records at the collector", func() bool { got = coll.got(); return len(got) >= 2 })
	if len(got) != 2 {
		t.Fatalf("collector got %d records, want the 2 flows to port 80", len(got))
	}
	for i, r := range got {
		port := int64(40000 + 2*i)
		if r.GetTimeUnixNano() != uint64(at.Add(time.Duration(2*i)*time.Second).UnixNano()) || r.GetEventName() != "hubble.flow" {
			t.Errorf("record %d: time %d, event %q", i, r.GetTimeUnixNano(), r.GetEventName())
		}
		want := map[string]any{
			"source.address": "10.0.0.1", "source.port": port, "destination.address": "10.0.0.2", "destination.port": int64(80),
			"network.transport": "tcp", "network.type": "ipv4", "k8s.namespace.name": "shop", "k8s.pod.name": "client",
			"hubble.source.namespace": "shop", "hubble.source.pod": "client",
			"hubble.destination.namespace": "shop", "hubble.destination.pod": "server",
			"hubble.verdict": "FORWARDED", "hubble.traffic_direction": "EGRESS", "hubble.is_reply": false,
		}
		if i == 1 {
			want["hubble.verdict"], want["hubble.drop_reason"] = "DROPPED", "POLICY_DENIED"
		}
		if a := attrs(r.GetAttributes()); !mapsEqual(a, want) {
			t.Errorf("record %d attributes\n %v\nwant\n %v", i, a, want)
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(r.GetBody().GetStringValue()), &body); err != nil {
			t.Fatalf("record %d body %q: %v", i, r.GetBody().GetStringValue(), err)
		}
		if _, ok := body["l4"]; !ok || len(body) != 3 || body["source"] != nil {
			t.Errorf("record %d body %v, want time, verdict and l4 only", i, body)
		}
	}
	if sev := got[1].GetSeverityNumber(); sev != logspb.SeverityNumber_SEVERITY_NUMBER_WARN {
		t.Errorf("a drop has severity %v, want WARN", sev)
	}
	coll.mu.Lock()
	res := attrs(coll.rls[0].GetResource().GetAttributes())
	auth := slices.Clone(coll.auth)
	coll.mu.Unlock()
	if res["k8s.node.name"] != "node-1" || res["k8s.cluster.name"] != "kind" || res["service.name"] != "fovea" {
		t.Errorf("resource %v, want the node and cluster", res)
	}
	if len(auth) == 0 || auth[0] != "Bearer s3cret" {
		t.Errorf("authorization headers %q", auth)
	}
}

func mapsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestOTLPCollectorDownThenBack writes flows while the fakeCollector is down:
// the writer never waits, the exporter keeps a bounded queue and counts
// the batches that do not fit, and once the fakeCollector is back it sends
// the queue; every flow is either received or counted as dropped.
func TestOTLPCollectorDownThenBack(t *testing.T) {
	e := newEnv(t, 4095)
	coll := newCollector(t)
	coll.stop()
	var n notes
	m := NewManager(e.ring, e.node, WithNotify(n.notify))
	if err := m.AddOTLP(coll.otlp("otlp")); err != nil {
		t.Fatal(err)
	}
	runManager(t, m)
	eventually(t, "the exporter runs", func() bool { return statusOf(m, "otlp") != nil })
	st := statusOf(m, "otlp")

	start := time.Now()
	e.write(1000)
	if d := time.Since(start); d > time.Second {
		t.Errorf("1000 writes took %v with the fakeCollector down", d)
	}
	eventually(t, "batches dropped for a full queue", func() bool {
		return st.dropped[ReasonQueueFull].Load() > 0 && !st.healthy.Load()
	})
	eventually(t, "every flow queued or dropped", func() bool {
		return uint64(st.queued.Load())+st.dropped[ReasonQueueFull].Load() == 1000
	})
	if q := st.queued.Load(); q > 40+10 {
		t.Errorf("%d records queued, want at most the queue and the batch being sent", q)
	}
	coll.start()
	eventually(t, "the queue sent", func() bool { return st.queued.Load() == 0 && st.healthy.Load() })
	if got, dropped := uint64(len(coll.got())), st.dropped[ReasonQueueFull].Load(); got+dropped != 1000 || got != st.exported.Load() {
		t.Errorf("collector got %d, exporter counted %d sent and %d dropped; want them to account for 1000", got, st.exported.Load(), dropped)
	}
	if got := n.get(); !slices.Contains(got, "export_failing") || !slices.Contains(got, "export_recovered") {
		t.Errorf("agent events %q, want export_failing and export_recovered", got)
	}
}

// TestOTLPDropsWhatTheCollectorRefuses drops a batch the fakeCollector refuses
// with a code OTLP does not retry, and counts it.
func TestOTLPDropsWhatTheCollectorRefuses(t *testing.T) {
	e := newEnv(t, 1023)
	coll := newCollector(t)
	coll.fail = func() error { return status.Error(codes.InvalidArgument, "no") }
	m := NewManager(e.ring, e.node)
	if err := m.AddOTLP(coll.otlp("otlp")); err != nil {
		t.Fatal(err)
	}
	runManager(t, m)
	eventually(t, "the exporter runs", func() bool { return statusOf(m, "otlp") != nil })
	e.write(10)
	st := statusOf(m, "otlp")
	eventually(t, "the batch dropped", func() bool { return st.dropped[ReasonSendFailed].Load() == 10 })
	if st.healthy.Load() {
		t.Error("a refused batch left the exporter healthy")
	}
}
