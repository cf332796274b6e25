package tlsfiles

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestReloaderRebuildsOnChangeAndKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "cert.pem")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(f, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("one")
	var fail bool
	build := func() (string, error) {
		if fail {
			return "", errors.New("half-written file")
		}
		data, err := os.ReadFile(f)
		return string(data), err
	}
	r, err := New([]string{f}, build, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	r.now = func() time.Time { return clock }

	write("two, longer")
	if got := r.Current(); got != "one" {
		t.Fatalf("within CheckEvery: Current() = %q, want the old value", got)
	}
	clock = clock.Add(CheckEvery)
	if got := r.Current(); got != "two, longer" {
		t.Fatalf("after a change: Current() = %q", got)
	}

	fail = true
	write("three, longer still")
	clock = clock.Add(CheckEvery)
	if got := r.Current(); got != "two, longer" {
		t.Fatalf("failed rebuild: Current() = %q, want the last good value", got)
	}
	fail = false
	clock = clock.Add(CheckEvery)
	if got := r.Current(); got != "three, longer still" {
		t.Fatalf("after recovery: Current() = %q", got)
	}
}

func TestNewNeedsEveryFile(t *testing.T) {
	_, err := New([]string{filepath.Join(t.TempDir(), "missing.pem")}, func() (int, error) { return 0, nil }, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("New with a missing file succeeded")
	}
}
