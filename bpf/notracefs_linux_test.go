//go:build linux

package bpf

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// noTracefsEnv makes TestTracepointsWithoutTracefs attach, in the child
// its parent starts with tracefs and debugfs hidden.
const noTracefsEnv = "FOVEA_BPF_TEST_NO_TRACEFS"

// TestTracepointsWithoutTracefs attaches the drop and retransmission
// tracepoints in a mount namespace where tracefs and debugfs are empty
// tmpfs mounts, as on nodes that mount neither: the programs attach by BTF
// (raw_tp), which needs no tracefs.
func TestTracepointsWithoutTracefs(t *testing.T) {
	requireRoot(t)
	if os.Getenv(noTracefsEnv) == "" {
		script := `set -e
for d in /sys/kernel/tracing /sys/kernel/debug; do mount -t tmpfs fovea-no-tracefs "$d"; done
exec "$0" -test.run '^TestTracepointsWithoutTracefs$' -test.count=1 -test.v`
		cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, os.Args[0])
		cmd.Env = append(os.Environ(), noTracefsEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestTracepointsWithoutTracefs") {
			t.Fatalf("child without tracefs: %v\n%s", err, out)
		}
		return
	}
	for _, d := range []string{"/sys/kernel/tracing/events", "/sys/kernel/debug/tracing"} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Fatalf("%s is visible (%v): tracefs is not hidden", d, err)
		}
	}
	s := newTestSource(t, Config{RingBytes: 4096, Aggregation: AggregationNone})
	detach, err := s.attachTrace()
	if err != nil {
		t.Fatal(err)
	}
	detach()
}
