//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/protobuf/encoding/protojson"
)

// hubble runs the hubble CLI against socket and returns its stdout; a
// non-zero exit fails the test with stderr.
func (e *env) hubble(t testing.TB, socket string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args = append(args, "--server", "unix://"+socket)
	cmd := exec.CommandContext(ctx, e.hubbleBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("hubble %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// observeJSON runs `hubble observe -o json` with args and decodes its lines.
func (e *env) observeJSON(t *testing.T, socket string, args ...string) []*flowpb.Flow {
	t.Helper()
	out := e.hubble(t, socket, append([]string{"observe", "-o", "json"}, args...)...)
	return decodeFlows(t, out)
}

func decodeFlows(t *testing.T, out string) []*flowpb.Flow {
	t.Helper()
	var flows []*flowpb.Flow
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var resp observerpb.GetFlowsResponse
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(line, &resp); err != nil {
			t.Fatalf("decode hubble output line %q: %v", line, err)
		}
		if f := resp.GetFlow(); f != nil {
			flows = append(flows, f)
		}
	}
	return flows
}

// eventually retries check every 200ms until it returns nil or limit passes.
func eventually(t testing.TB, limit time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", limit, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func describe(flows []*flowpb.Flow) string {
	var b strings.Builder
	for _, f := range flows {
		fmt.Fprintf(&b, "\n  %s -> %s %s reply=%v obs=%v iface=%s", f.GetIP().GetSource(), f.GetIP().GetDestination(),
			f.GetSummary(), f.GetIsReply(), f.GetTraceObservationPoint(), f.GetInterface().GetName())
	}
	return b.String()
}

// follow runs `hubble observe --follow -o json` until ctx ends and sends
// each output line; the channel closes when hubble exits.
func (e *env) follow(ctx context.Context, t *testing.T, socket string, args ...string) <-chan string {
	t.Helper()
	args = append([]string{"observe", "--follow", "-o", "json", "--server", "unix://" + socket}, args...)
	cmd := exec.CommandContext(ctx, e.hubbleBin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start hubble %s: %v", strings.Join(args, " "), err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("hubble stderr: %s", stderr.String())
		}
	})
	return lines
}
