//go:build linux

package capture

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foveanet/fovea/api/capture/capturepb"
)

// TestCaptureOnFullDisk runs captures whose directory is a 64 KiB tmpfs:
// the one that fills it ends with END_REASON_ERROR naming the full disk,
// and once space is freed the next capture is written whole.
func TestCaptureOnFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts a tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "fovea-capture-test", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v: %s", err, out)
		}
	})
	f := newFixture(t, Config{Dir: dir})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Each capture takes its own pod, so its socket is a new one.
	capture := func(id, pod string, link, packets int) *capturepb.Ended {
		t.Helper()
		stream, err := f.client.Start(ctx, &capturepb.StartRequest{
			Id: id, Selector: &capturepb.Selector{PodNames: []string{pod}},
			Limits: &capturepb.Limits{MaxPackets: uint64(packets), MaxBytes: 1 << 20},
		})
		if err != nil {
			t.Fatal(err)
		}
		s := f.waitSocket(t, link)
		t0 := time.Now()
		for i := range packets {
			s.inject(ipFrame(6, 1400), t0.Add(time.Duration(i)*time.Microsecond))
		}
		evs, err := collect(t, stream)
		if err != nil {
			t.Fatal(err)
		}
		return endOf(t, evs)
	}
	// 100 packets of 1400 bytes are twice the tmpfs.
	if e := capture("fills", "prod/web-1", 11, 100); e.GetReason() != capturepb.EndReason_END_REASON_ERROR || !strings.Contains(e.GetMessage(), "no space left") {
		t.Fatalf("capture on a full disk ended %v, want an error naming the full disk", e)
	}
	if err := os.Remove(filepath.Join(dir, "fills.pcapng")); err != nil {
		t.Fatal(err)
	}
	if e := capture("fits", "prod/web-2", 12, 10); e.GetReason() != capturepb.EndReason_END_REASON_PACKETS || e.GetProgress().GetPackets() != 10 {
		t.Fatalf("capture after space was freed ended %v, want 10 packets", e)
	}
}
