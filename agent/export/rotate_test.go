package export

import (
	"compress/gzip"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// TestFileLogRotatesAndCompresses writes flows through a 1 MB file kept
// with two compressed backups until two backups exist: lumberjack rotates
// between whole lines, so every line of the file and of each backup reads
// back, and each backup is nearly 1 MB.
func TestFileLogRotatesAndCompresses(t *testing.T) {
	e := newEnv(t, 65535)
	dir := t.TempDir()
	path := filepath.Join(dir, "flows.log")
	m := NewManager(e.ring, e.node)
	if err := m.AddLog(Spec{Name: "rotated", FilePath: path, FileMaxSizeMB: 1, FileMaxBackups: 2, FileCompress: true}); err != nil {
		t.Fatal(err)
	}
	runManager(t, m)
	waitLog(t, path, 1)
	var backups []string
	for round := 0; len(backups) < 2; round++ {
		if round == 60 {
			t.Fatalf("no two compressed backups after %d rounds: %v", round, backups)
		}
		e.write(1000) // ≈ 0.3 MB of flows
		eventually(t, "the round exported", func() bool { return statusOf(m, "rotated").exported.Load() >= uint64(e.next) })
		var err error
		if backups, err = filepath.Glob(filepath.Join(dir, "flows-*.log.gz")); err != nil {
			t.Fatal(err)
		}
	}
	// lumberjack compresses and removes in the background: wait for the
	// plain backups to go and at most two to stay.
	eventually(t, "two compressed backups and no plain one", func() bool {
		plain, _ := filepath.Glob(filepath.Join(dir, "flows-*.log"))
		gz, _ := filepath.Glob(filepath.Join(dir, "flows-*.log.gz"))
		backups = gz
		return len(plain) == 0 && len(gz) == 2
	})
	readLogFile(t, path)
	for _, b := range backups {
		data := gunzip(t, b)
		readLog(t, data)
		if len(data) > 1<<20 || len(data) < 1<<20-flushBytes {
			t.Errorf("backup %s holds %d bytes, want at most 1 MiB and at least 1 MiB less one write", b, len(data))
		}
	}
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fullDisk is a writer that fails with ENOSPC after writing half of what
// it is given while full is set, and appends to a buffer otherwise.
type fullDisk struct {
	full bool
	data strings.Builder
}

func (d *fullDisk) Write(p []byte) (int, error) {
	if d.full {
		d.data.Write(p[:len(p)/2])
		return len(p) / 2, &os.PathError{Op: "write", Path: "flows.log", Err: syscall.ENOSPC}
	}
	return d.data.Write(p)
}

func (d *fullDisk) Close() error { return nil }

// TestFileSinkSurvivesFullDisk fails writes as a full disk does, half a
// line written: the lines not written whole are counted as dropped, the exporter is
// unhealthy and says so, and once space returns the next lines are
// written whole on a line of their own.
func TestFileSinkSurvivesFullDisk(t *testing.T) {
	var n notes
	st := newStatus("static", slog.New(slog.DiscardHandler), n.notify, time.Now)
	disk := &fullDisk{}
	s := &fileSink{w: disk, path: "flows.log", nodeName: "kind/node-1", status: st}
	lost := func(n uint64) *flowpb.LostEvent {
		return &flowpb.LostEvent{Source: flowpb.LostEventSource_PERF_EVENT_RING_BUFFER, NumEventsLost: n}
	}
	// Lines of one length, so that half of three ends in the second.
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	s.Lost(at, lost(1))
	s.Idle(at)
	disk.full = true
	s.Lost(at, lost(2))
	s.Lost(at, lost(3))
	s.Lost(at, lost(4))
	s.Idle(at)
	if st.healthy.Load() || st.dropped[ReasonWriteFailed].Load() != 2 || st.exported.Load() != 2 {
		t.Fatalf("after a failed write: healthy %v, %d dropped, %d exported; want unhealthy, 2 dropped (the broken line and the next), 2 exported",
			st.healthy.Load(), st.dropped[ReasonWriteFailed].Load(), st.exported.Load())
	}
	disk.full = false
	s.Lost(at, lost(5))
	s.Idle(at)
	if !st.healthy.Load() || st.exported.Load() != 3 {
		t.Fatalf("after space returned: healthy %v, %d exported; want healthy, 3", st.healthy.Load(), st.exported.Load())
	}
	lines := strings.Split(strings.TrimSuffix(disk.data.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("file holds %d lines, want two whole ones, the broken one and the last:\n%s", len(lines), disk.data.String())
	}
	var got []string
	for _, i := range []int{0, 1, 3} {
		got = append(got, summarize(readLog(t, []byte(lines[i])))...)
	}
	if want := "lost PERF_EVENT_RING_BUFFER 1,lost PERF_EVENT_RING_BUFFER 2,lost PERF_EVENT_RING_BUFFER 5"; strings.Join(got, ",") != want {
		t.Errorf("whole lines %q, want %s", got, want)
	}
	if got := strings.Join(n.get(), ","); got != "export_dropped,export_recovered" {
		t.Errorf("agent events %s, want export_dropped,export_recovered", got)
	}
	if err := s.Close(); err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
}
