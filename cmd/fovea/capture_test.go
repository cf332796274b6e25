package main

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/vbauerster/mpb/v8"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/foveanet/fovea/api/capture/capturepb"
)

func TestByteSize(t *testing.T) {
	for in, want := range map[string]uint64{"4096": 4096, "50MB": 50e6, "50mb": 50e6, "1.5GiB": 3 << 29, "10KiB": 10240, "2k": 2000, "7B": 7} {
		var b byteSize
		if err := b.Set(in); err != nil || uint64(b) != want {
			t.Errorf("%s = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, bad := range []string{"", "MB", "-1MB", "5 parsecs", "1e6"} {
		var b byteSize
		if err := b.Set(bad); err == nil {
			t.Errorf("%q parsed as %d", bad, b)
		}
	}
}

func TestStartRequest(t *testing.T) {
	var f startFlags
	fs := pflag.NewFlagSet("start", pflag.ContinueOnError)
	f.bind(fs)
	if err := fs.Parse([]string{"-l", "app=web", "-n", "prod", "--duration", "30s", "--max-size", "50MB", "-o", "out.pcapng",
		"--flow-filter", `{"source_pod":["prod/web"]}`, "-f", "tcp port 80"}); err != nil {
		t.Fatal(err)
	}
	req, err := f.request()
	if err != nil {
		t.Fatal(err)
	}
	sel := req.GetSelector()
	if sel.GetNamespace() != "prod" || sel.GetPodSelector() != "app=web" || req.GetFilter() != "tcp port 80" ||
		req.GetLimits().GetDuration().AsDuration() != 30*time.Second || req.GetLimits().GetMaxBytes() != 50e6 ||
		len(sel.GetFlowFilters()) != 1 || sel.GetFlowFilters()[0].GetSourcePod()[0] != "prod/web" {
		t.Errorf("request %v", req)
	}
	f.flowFilters = []string{"{"}
	if _, err := f.request(); err == nil {
		t.Error("a request with a flow filter that is not JSON")
	}
	f.flowFilters, f.output = nil, ""
	if _, err := f.request(); err == nil {
		t.Error("a request without --output")
	}
}

// TestBarView draws a node's bar from start to end without blocking.
func TestBarView(t *testing.T) {
	var out lockedWriter
	// mpb draws to a terminal on its own; a buffer needs auto refresh.
	v := newBarView(&out, mpb.WithAutoRefresh())
	node := "default/node1"
	v.event(&capturepb.CaptureEvent{Node: node, Event: &capturepb.CaptureEvent_Started{Started: &capturepb.Started{
		Limits: &capturepb.Limits{Duration: durationpb.New(30 * time.Second)}}}})
	v.event(&capturepb.CaptureEvent{Node: node, Event: &capturepb.CaptureEvent_Progress{Progress: &capturepb.Progress{
		Packets: 12, Bytes: 3 << 20, Elapsed: durationpb.New(10 * time.Second), Remaining: durationpb.New(20 * time.Second)}}})
	time.Sleep(300 * time.Millisecond) // a refresh
	v.event(&capturepb.CaptureEvent{Node: node, Event: &capturepb.CaptureEvent_Ended{Ended: &capturepb.Ended{
		Reason: capturepb.EndReason_END_REASON_STOPPED, Progress: &capturepb.Progress{Packets: 12, Bytes: 3 << 20}}}})
	done := make(chan struct{})
	go func() { v.wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the bars did not finish")
	}
	if s := out.String(); !strings.Contains(s, node) || !strings.Contains(s, "12 packets") {
		t.Errorf("bars drew %q", s)
	}
}

type lockedWriter struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
