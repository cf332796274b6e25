package capture

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/api/capture/capturepb"
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/test/grpctest"
)

type fixture struct {
	net    *fakeNetwork
	client capturepb.CaptureClient
	store  *endpoints.Store
	tables *intern.Tables
	dir    string
	pods   []endpoints.Pod
}

var (
	web1 = netip.MustParseAddr("10.0.1.1")
	web2 = netip.MustParseAddr("10.0.1.2")
	db   = netip.MustParseAddr("10.0.1.3")
)

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	f := &fixture{net: newFakeNetwork(), tables: intern.NewTables(), store: endpoints.NewStore(), dir: t.TempDir()}
	f.pods = []endpoints.Pod{
		{Namespace: "prod", Name: "web-1", Node: "node1", Labels: map[string]string{"app": "web"}, IPs: []netip.Addr{web1}},
		{Namespace: "prod", Name: "web-2", Node: "node1", Labels: map[string]string{"app": "web"}, IPs: []netip.Addr{web2}},
		{Namespace: "prod", Name: "db", Node: "node1", Labels: map[string]string{"app": "db"}, IPs: []netip.Addr{db}},
		{Namespace: "prod", Name: "web-3", Node: "node2", Labels: map[string]string{"app": "web"}, IPs: []netip.Addr{netip.MustParseAddr("10.0.2.1")}},
	}
	f.setPods(t, f.pods)
	f.net.links[web1] = link{index: 11, name: "veth1"}
	f.net.links[web2] = link{index: 12, name: "veth2"}
	f.net.links[db] = link{index: 13, name: "veth3"}
	if cfg.Dir == "" {
		cfg.Dir = f.dir
	}
	cfg.MaxConcurrent = max(cfg.MaxConcurrent, 1)
	if cfg.MaxStoredBytes == 0 {
		cfg.MaxStoredBytes = 1 << 30
	}
	if cfg.MaxDuration == 0 {
		cfg.MaxDuration = time.Hour
	}
	node := flowview.NewNode("node1", "default", "test", []string{"zone=a"}, f.tables)
	srv, err := NewServer(cfg, node, f.store, slog.New(slog.DiscardHandler), withNetwork(f.net))
	if err != nil {
		t.Fatal(err)
	}
	conn := grpctest.Serve(t, func(gs *grpc.Server) { capturepb.RegisterCaptureServer(gs, srv) })
	f.client = capturepb.NewCaptureClient(conn)
	return f
}

func (f *fixture) setPods(t *testing.T, pods []endpoints.Pod) {
	t.Helper()
	ix, err := endpoints.Build(f.tables, pods, nil, endpoints.KeepLocalPods("node1"))
	if err != nil {
		t.Fatal(err)
	}
	f.store.Replace(ix)
}

// tcpFrame is an Ethernet frame of an IPv4 packet of protocol proto,
// padded to size bytes.
func ipFrame(proto byte, size int) []byte {
	b := make([]byte, size)
	b[12], b[13] = 0x08, 0x00
	b[14] = 0x45
	b[23] = proto
	return b
}

// waitSocket waits until the capture opened a socket on link index.
func (f *fixture) waitSocket(t *testing.T, index int) *fakeSocket {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s := f.net.socket(index); s != nil {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no socket opened on link %d", index)
	return nil
}

// collect reads a stream to its end.
func collect(t *testing.T, stream grpc.ServerStreamingClient[capturepb.CaptureEvent]) ([]*capturepb.CaptureEvent, error) {
	t.Helper()
	var evs []*capturepb.CaptureEvent
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

func packetsOf(evs []*capturepb.CaptureEvent) []*capturepb.Packet {
	var out []*capturepb.Packet
	for _, ev := range evs {
		out = append(out, ev.GetPackets().GetPackets()...)
	}
	return out
}

func endOf(t *testing.T, evs []*capturepb.CaptureEvent) *capturepb.Ended {
	t.Helper()
	if len(evs) == 0 || evs[len(evs)-1].GetEnded() == nil {
		t.Fatalf("stream did not end with Ended: %v", evs)
	}
	return evs[len(evs)-1].GetEnded()
}

func TestStartInvalidArgument(t *testing.T) {
	f := newFixture(t, Config{})
	web := &capturepb.Selector{PodSelector: "app=web"}
	for _, tc := range []struct {
		req   *capturepb.StartRequest
		field string
	}{
		{&capturepb.StartRequest{}, "selector:"},
		{&capturepb.StartRequest{Selector: &capturepb.Selector{NodeSelector: "zone=a"}}, "selector:"},
		{&capturepb.StartRequest{Selector: &capturepb.Selector{PodSelector: "app in ("}}, "selector.pod_selector:"},
		{&capturepb.StartRequest{Selector: &capturepb.Selector{PodSelector: "app=web", NodeSelector: "=="}}, "selector.node_selector:"},
		{&capturepb.StartRequest{Selector: &capturepb.Selector{PodNames: []string{"web-1"}}}, "selector.pod_names[0]:"},
		{&capturepb.StartRequest{Selector: &capturepb.Selector{FlowFilters: []*flowpb.FlowFilter{{SourceIp: []string{"10.0.0.1"}}}}}, "selector.flow_filters[0].source_ip:"},
		{&capturepb.StartRequest{Selector: &capturepb.Selector{FlowFilters: []*flowpb.FlowFilter{{SourceLabel: []string{"a in ("}}}}}, "selector.flow_filters[0].source_label"},
		{&capturepb.StartRequest{Selector: web, Filter: "tcp port"}, "filter:"},
		{&capturepb.StartRequest{Selector: web, Limits: &capturepb.Limits{Duration: durationpb.New(-time.Second)}}, "limits.duration:"},
		{&capturepb.StartRequest{Selector: web, Limits: &capturepb.Limits{Duration: durationpb.New(2 * time.Hour)}}, "limits.duration:"},
		{&capturepb.StartRequest{Selector: web, Limits: &capturepb.Limits{MaxBytes: 100}}, "limits.max_bytes:"},
		{&capturepb.StartRequest{Selector: web, Limits: &capturepb.Limits{MaxBytes: 2 << 30}}, "limits.max_bytes:"},
		{&capturepb.StartRequest{Selector: web, Limits: &capturepb.Limits{SnapLength: 10}}, "limits.snap_length:"},
		{&capturepb.StartRequest{Selector: web, Id: "../etc"}, "id:"},
	} {
		stream, err := f.client.Start(context.Background(), tc.req)
		if err == nil {
			_, err = stream.Recv()
		}
		if status.Code(err) != codes.InvalidArgument || !strings.HasPrefix(status.Convert(err).Message(), tc.field) {
			t.Errorf("Start(%v) = %v, want InvalidArgument naming %s", tc.req, err, tc.field)
		}
	}
}

func TestStartNothingSelected(t *testing.T) {
	f := newFixture(t, Config{})
	for _, sel := range []*capturepb.Selector{
		{Namespace: "staging"},
		{PodSelector: "app=web", NodeSelector: "zone=b"},
		{PodNames: []string{"prod/web-3"}}, // on another node
	} {
		stream, err := f.client.Start(context.Background(), &capturepb.StartRequest{Selector: sel})
		if err == nil {
			_, err = stream.Recv()
		}
		if status.Code(err) != codes.NotFound {
			t.Errorf("Start(%v) = %v, want NotFound", sel, err)
		}
	}
}

// TestCaptureByLabel captures the web pods' TCP packets: both interfaces
// are announced with their pod's name, packets come in time order across
// them, the filter runs, and the packet limit ends the capture; the file
// downloads as it streamed.
func TestCaptureByLabel(t *testing.T) {
	f := newFixture(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := f.client.Start(ctx, &capturepb.StartRequest{
		Id: "by-label", Selector: &capturepb.Selector{Namespace: "prod", PodSelector: "app=web"}, Filter: "tcp",
		Limits: &capturepb.Limits{MaxPackets: 4, SnapLength: 64},
	})
	if err != nil {
		t.Fatal(err)
	}
	s1, s2 := f.waitSocket(t, 11), f.waitSocket(t, 12)
	t0 := time.Now()
	s1.inject(ipFrame(6, 100), t0.Add(2*time.Millisecond))
	s1.inject(ipFrame(17, 100), t0.Add(2*time.Millisecond)) // UDP: filtered
	s1.inject(ipFrame(6, 100), t0.Add(4*time.Millisecond))
	s2.inject(ipFrame(6, 60), t0.Add(1*time.Millisecond))
	s2.inject(ipFrame(6, 60), t0.Add(3*time.Millisecond))
	s2.inject(ipFrame(6, 60), t0.Add(5*time.Millisecond)) // past the limit
	evs, err := collect(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	if f.net.socket(13) != nil {
		t.Error("the db pod's interface was opened")
	}
	if evs[0].GetStarted() == nil || evs[0].GetNode() != "default/node1" || evs[0].GetCaptureId() != "by-label" {
		t.Fatalf("first event %v, want Started of default/node1, by-label", evs[0])
	}
	var names []string
	for _, ev := range evs {
		if i := ev.GetInterface(); i != nil {
			names = append(names, i.GetName())
		}
	}
	if strings.Join(names, " ") != "prod/web-1@node1 prod/web-2@node1" {
		t.Errorf("interfaces %v", names)
	}
	pkts := packetsOf(evs)
	var order []string
	for _, p := range pkts {
		order = append(order, time.Unix(0, p.GetTimeUnixNano()).Sub(t0).String()+"@"+string(rune('0'+p.GetInterfaceId())))
		if len(p.GetData()) != min(64, int(p.GetLength())) {
			t.Errorf("packet of %d bytes of %d, want at most 64 kept", len(p.GetData()), p.GetLength())
		}
	}
	if got := strings.Join(order, " "); got != "1ms@1 2ms@0 3ms@1 4ms@0" {
		t.Errorf("packets %s, want the 4 TCP packets in time order", got)
	}
	if e := endOf(t, evs); e.GetReason() != capturepb.EndReason_END_REASON_PACKETS || e.GetProgress().GetPackets() != 4 {
		t.Errorf("ended %v, want the packet limit after 4", e)
	}

	list, err := f.client.List(ctx, &capturepb.ListRequest{})
	if err != nil || len(list.GetCaptures()) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
	if c := list.GetCaptures()[0]; c.GetState() != capturepb.State_STATE_ENDED || c.GetStoredBytes() == 0 || len(c.GetInterfaces()) != 2 {
		t.Errorf("listed %v", c)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "by-label.pcapng")); err != nil {
		t.Error(err)
	}
	dl, err := f.client.Download(ctx, &capturepb.DownloadRequest{Id: "by-label"})
	if err != nil {
		t.Fatal(err)
	}
	devs, err := collect(t, dl)
	if err != nil {
		t.Fatal(err)
	}
	got := packetsOf(devs)
	if len(got) != len(pkts) {
		t.Fatalf("downloaded %d packets, streamed %d", len(got), len(pkts))
	}
	for i := range got {
		if got[i].GetTimeUnixNano() != pkts[i].GetTimeUnixNano() || got[i].GetInterfaceId() != pkts[i].GetInterfaceId() {
			t.Errorf("downloaded packet %d = %v, streamed %v", i, got[i], pkts[i])
		}
	}
	if endOf(t, devs).GetReason() != capturepb.EndReason_END_REASON_PACKETS {
		t.Errorf("download ended %v", endOf(t, devs))
	}
}

// TestPodDeleted ends a capture whose only pod is deleted, saying so.
func TestPodDeleted(t *testing.T) {
	f := newFixture(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := f.client.Start(ctx, &capturepb.StartRequest{Selector: &capturepb.Selector{PodNames: []string{"prod/db"}}})
	if err != nil {
		t.Fatal(err)
	}
	f.waitSocket(t, 13)
	f.setPods(t, f.pods[:2])
	f.net.remove(13)
	evs, err := collect(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	e := endOf(t, evs)
	if e.GetReason() != capturepb.EndReason_END_REASON_PODS_DELETED || !strings.Contains(e.GetMessage(), "prod/db") {
		t.Errorf("ended %v, want pods deleted naming prod/db", e)
	}
}

// TestLimits ends captures on their duration and size, and refuses one
// more than the node runs at once.
func TestLimits(t *testing.T) {
	f := newFixture(t, Config{MaxConcurrent: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	web := &capturepb.Selector{PodSelector: "app=web"}

	begin := time.Now()
	stream, err := f.client.Start(ctx, &capturepb.StartRequest{Selector: web, Limits: &capturepb.Limits{Duration: durationpb.New(300 * time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := collect(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	if e := endOf(t, evs); e.GetReason() != capturepb.EndReason_END_REASON_DURATION || time.Since(begin) < 300*time.Millisecond {
		t.Errorf("ended %v after %v, want the duration limit after 300ms", e, time.Since(begin))
	}

	f.net.sockets = map[int]*fakeSocket{}
	stream, err = f.client.Start(ctx, &capturepb.StartRequest{Id: "size", Selector: web, Limits: &capturepb.Limits{MaxBytes: 4096, SnapLength: 64}})
	if err != nil {
		t.Fatal(err)
	}
	s := f.waitSocket(t, 11)
	// A second capture waits for the first.
	second, err := f.client.Start(ctx, &capturepb.StartRequest{Selector: web})
	if err == nil {
		_, err = second.Recv()
	}
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("a second capture: %v, want ResourceExhausted", err)
	}
	for i := range 100 {
		s.inject(ipFrame(6, 200), time.Now().Add(time.Duration(i)))
	}
	evs, err = collect(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	e := endOf(t, evs)
	// 96 bytes a packet: 42 fit in 4096.
	if e.GetReason() != capturepb.EndReason_END_REASON_BYTES || e.GetProgress().GetBytes() > 4096 || len(packetsOf(evs)) != 42 {
		t.Errorf("ended %v with %d packets, want the size limit after 42", e, len(packetsOf(evs)))
	}
	if fi, err := os.Stat(filepath.Join(f.dir, "size.pcapng")); err != nil || fi.Size() > 4096+1024 {
		t.Errorf("file: %v, %v; want at most the limit and its headers", fi, err)
	}
}

// TestStop stops a running capture, which then ends as stopped.
func TestStop(t *testing.T) {
	f := newFixture(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := f.client.Start(ctx, &capturepb.StartRequest{Id: "stop-me", Selector: &capturepb.Selector{PodSelector: "app=db"}, HostInterfaces: true})
	if err != nil {
		t.Fatal(err)
	}
	f.waitSocket(t, 13)
	f.waitSocket(t, 1)
	if _, err := f.client.Download(ctx, &capturepb.DownloadRequest{Id: "stop-me"}); err == nil {
		dl, _ := f.client.Download(ctx, &capturepb.DownloadRequest{Id: "stop-me"})
		if _, err := dl.Recv(); status.Code(err) != codes.FailedPrecondition {
			t.Errorf("download of a running capture: %v, want FailedPrecondition", err)
		}
	}
	resp, err := f.client.Stop(ctx, &capturepb.StopRequest{Id: "stop-me"})
	if err != nil || len(resp.GetNodes()) != 1 {
		t.Fatalf("Stop = %v, %v", resp, err)
	}
	evs, err := collect(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	if e := endOf(t, evs); e.GetReason() != capturepb.EndReason_END_REASON_STOPPED {
		t.Errorf("ended %v, want stopped", e)
	}
	if _, err := f.client.Stop(ctx, &capturepb.StopRequest{Id: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("Stop of an unknown capture: %v", err)
	}
}

// TestFlowFilterSelects selects pods by Hubble flow filters, by either end.
func TestFlowFilterSelects(t *testing.T) {
	for _, tc := range []struct {
		ff   *flowpb.FlowFilter
		want int
	}{
		{&flowpb.FlowFilter{SourceLabel: []string{"k8s:app=db"}}, 13},
		{&flowpb.FlowFilter{DestinationPod: []string{"prod/web-2"}}, 12},
		{&flowpb.FlowFilter{SourcePod: []string{"prod/web-1"}, NodeName: []string{"default/node1"}}, 11},
	} {
		f := newFixture(t, Config{})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		stream, err := f.client.Start(ctx, &capturepb.StartRequest{Id: "ff", Selector: &capturepb.Selector{FlowFilters: []*flowpb.FlowFilter{tc.ff}}})
		if err != nil {
			t.Fatal(err)
		}
		f.waitSocket(t, tc.want)
		if _, err := f.client.Stop(ctx, &capturepb.StopRequest{Id: "ff"}); err != nil {
			t.Fatal(err)
		}
		evs, err := collect(t, stream)
		if err != nil {
			t.Fatal(err)
		}
		var devices []string
		for _, ev := range evs {
			if i := ev.GetInterface(); i != nil {
				devices = append(devices, i.GetDevice())
			}
		}
		if len(devices) != 1 {
			t.Errorf("%v selected %v, want only link %d", tc.ff, devices, tc.want)
		}
		cancel()
	}
}
