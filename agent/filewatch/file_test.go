package filewatch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write := func(s string, mod time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Unix(1_700_000_000, 0)
	write("a", t0)
	f := New(path, "config")
	if data, err := f.Read(); err != nil || string(data) != "a" {
		t.Fatalf("Read = %q, %v", data, err)
	}
	if _, changed, err := f.Changed(); changed || err != nil {
		t.Fatalf("unchanged file: changed %v, %v", changed, err)
	}
	write("bb", t0.Add(time.Second))
	if data, changed, err := f.Changed(); !changed || err != nil || string(data) != "bb" {
		t.Fatalf("changed file: %q, %v, %v", data, changed, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	// A missing file is reported once, naming the file.
	if _, changed, err := f.Changed(); !changed || err == nil || !strings.Contains(err.Error(), "config") {
		t.Fatalf("removed file: changed %v, %v", changed, err)
	}
	if _, changed, err := f.Changed(); changed || err != nil {
		t.Fatalf("still missing: changed %v, %v", changed, err)
	}
	write("c", t0.Add(2*time.Second))
	if data, changed, err := f.Changed(); !changed || err != nil || string(data) != "c" {
		t.Fatalf("file back: %q, %v, %v", data, changed, err)
	}
}
