package export

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/proto"
)

// hubbleBinary is the real hubble CLI the project builds (make tools).
const hubbleBinary = "../../.bin/hubble"

// TestHubbleCLIReadsFlowLog writes a flow log and has the real hubble CLI
// read it with --input-file: it prints the same flows, in JSON and as
// text, applies its own filters to them, and takes the node statuses and
// losses without a warning.
func TestHubbleCLIReadsFlowLog(t *testing.T) {
	bin, err := filepath.Abs(hubbleBinary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("hubble CLI not built at %s: %v", bin, err)
	}
	e := newEnv(t, 1023)
	path := filepath.Join(t.TempDir(), "flows.log")
	m := NewManager(e.ring, e.node)
	if err := m.AddLog(Spec{Name: "static", FilePath: path}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(ctx)
	}()
	waitLog(t, path, 1)
	e.write(10)
	e.writeLost(3)
	waitLog(t, path, 12)
	cancel() // closes the log with a last node status
	<-done

	hubble := func(args ...string) (stdout, stderr string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"observe", "--input-file", path}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("hubble observe --input-file %v: %v\n%s", args, err, errOut.String())
		}
		return out.String(), errOut.String()
	}

	written := map[string]*flowpb.Flow{}
	for _, r := range readLogFile(t, path) {
		if f := r.GetFlow(); f != nil {
			written[f.GetUuid()] = f
		}
	}
	out, stderr := hubble("-o", "json")
	if strings.Contains(stderr, "level=WARN") || strings.Contains(stderr, "unknown field") {
		t.Errorf("hubble warned reading the log:\n%s", stderr)
	}
	flows := 0
	for _, r := range readLog(t, []byte(out)) {
		f := r.GetFlow()
		if f == nil {
			continue
		}
		flows++
		if !proto.Equal(f, written[f.GetUuid()]) {
			t.Errorf("hubble printed flow %v, the log holds %v", f, written[f.GetUuid()])
		}
	}
	if flows != len(written) || flows != 10 {
		t.Errorf("hubble printed %d flows, the log holds %d, 10 were written", flows, len(written))
	}
	out, _ = hubble("-o", "json", "--port", "443")
	if n := len(readLog(t, []byte(out))); n != 5 {
		t.Errorf("hubble --port 443 printed %d flows, want the 5 of the log", n)
	}
	out, _ = hubble()
	if lines := strings.Count(out, "10.0.0.1"); lines != 10 || !strings.Contains(out, "EVENTS LOST: PERF_EVENT_RING_BUFFER") {
		t.Errorf("hubble printed %d flows as text, want 10 and the loss:\n%s", lines, out)
	}
}
