package inventory

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/model/intern"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	// Write then rename, as editors and ConfigMap mounts do; the bump of
	// the modification time makes the change visible even within one tick
	// of the clock.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Duration(len(data)) * time.Millisecond)
	if err := os.Chtimes(tmp, future, future); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func podName(tables *intern.Tables, store *endpoints.Store, ip string) string {
	return tables.Endpoints.Get(store.Load().Endpoint(netip.MustParseAddr(ip))).GetPodName()
}

func TestWatcherReloadsAndKeepsLastGood(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	writeFile(t, path, "pods: [{namespace: demo, name: old, ips: [10.244.1.11]}]")
	tables, store := intern.NewTables(), endpoints.NewStore()
	w, err := New(path, "c", tables, store, WithInterval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(w.Collector())
	if got := podName(tables, store, "10.244.1.11"); got != "old" {
		t.Fatalf("initial pod = %q", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	// The address moves to a new pod.
	writeFile(t, path, "pods: [{namespace: demo, name: new-pod, ips: [10.244.1.11]}]")
	waitFor("the new pod", func() bool { return podName(tables, store, "10.244.1.11") == "new-pod" })

	// A bad file keeps the last good state and is counted.
	writeFile(t, path, "pods: [{namespace: demo, name: x, ips: [bad]}]")
	waitFor("the failure metric", func() bool {
		return w.counts.failures.Load() == 1
	})
	if got := podName(tables, store, "10.244.1.11"); got != "new-pod" {
		t.Errorf("after a bad reload the address names %q", got)
	}
	if w.counts.lastOK.Load() {
		t.Error("last reload reported successful")
	}

	// A missing file is reported once, not per tick.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitFor("the missing file", func() bool {
		return w.counts.failures.Load() == 2
	})
	time.Sleep(50 * time.Millisecond)
	if n := w.counts.failures.Load(); n != 2 {
		t.Errorf("missing file counted %v times", n)
	}

	writeFile(t, path, "pods: [{namespace: demo, name: back, ips: [10.244.1.11]}]")
	waitFor("recovery", func() bool { return podName(tables, store, "10.244.1.11") == "back" })
	if !w.counts.lastOK.Load() || store.Load().Pods != 1 {
		t.Error("metrics do not show the recovery")
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n == 0 {
		t.Errorf("gather: %d, %v", n, err)
	}
}

func TestNewFailsOnBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	writeFile(t, path, "pods: [{namespace: demo, name: a, ips: [10.0.0.1]}, {namespace: demo, name: b, ips: [10.0.0.1]}]")
	_, err := New(path, "c", intern.NewTables(), endpoints.NewStore())
	if err == nil || !strings.Contains(err.Error(), "demo/a and demo/b") {
		t.Fatalf("err = %v", err)
	}
	if _, err := New(filepath.Join(t.TempDir(), "missing"), "c", intern.NewTables(), endpoints.NewStore()); err == nil {
		t.Fatal("a missing file loaded")
	}
}
