package agent

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foveanet/fovea/agent/capture"
	"github.com/foveanet/fovea/api/server"
)

// TestStopIsLogged: an agent told to stop says so, and why, and what it
// wrote, before Run returns.
func TestStopIsLogged(t *testing.T) {
	var out lockedBuffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	cfg := Config{
		NodeName: "node1", InternSweepInterval: time.Second, LocalAddrsRefresh: time.Second,
		Server: server.Config{SocketPath: filepath.Join(t.TempDir(), "hubble.sock")},
	}
	a, obs := unloadedAgent(t, cfg, log)
	captures, err := capture.NewServer(capture.Config{Dir: t.TempDir(), MaxConcurrent: 1, MaxStoredBytes: 1 << 20, MaxDuration: time.Minute},
		a.dp.node, a.enr.pods, log)
	if err != nil {
		t.Fatal(err)
	}
	if a.srv, err = newServer(cfg, a.dp, obs, captures, log); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("terminated signal received"))
	if err := a.run(ctx); err != nil {
		t.Fatalf("run: %v", err)
	}
	logged := out.String()
	for _, want := range []string{
		`msg="agent stopping" cause="terminated signal received"`,
		`msg="agent stopped" flows_seen=0 ring_writes=0`,
	} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %s:\n%s", want, logged)
		}
	}
}

// lockedBuffer is a bytes.Buffer the agent's goroutines may log to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
