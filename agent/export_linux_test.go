package agent

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBrokenFlowlogsConfigStopsTheStart checks that an agent told to write
// flow logs does not start without them: a configuration that does not
// load is an error naming the flag and the log.
func TestBrokenFlowlogsConfigStopsTheStart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flowlogs.yaml")
	if err := os.WriteFile(path, []byte("flowLogs:\n- name: a\n  filePath: "+filepath.Join(dir, "a.log")+"\n  fieldMask: [nope]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{NodeName: "node1", InternSweepInterval: time.Second, FlowlogsConfig: path, FlowlogsConfigInterval: time.Second}
	a, _ := unloadedAgent(t, Config{NodeName: "node1", InternSweepInterval: time.Second}, slog.New(slog.DiscardHandler))
	_, err := newExport(cfg, a.dp, slog.New(slog.DiscardHandler))
	if err == nil || !strings.HasPrefix(err.Error(), "--flowlogs-config:") || !strings.Contains(err.Error(), "flowLogs[0] (a): fieldMask") {
		t.Fatalf("error %v, want one naming --flowlogs-config and the log's field", err)
	}
}
