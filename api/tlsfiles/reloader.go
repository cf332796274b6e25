package tlsfiles

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// CheckEvery bounds how often the files are stat'ed, so that handshakes do
// not touch the file system each time.
const CheckEvery = time.Second

// Reloader holds a value built from files and rebuilds it when a file's
// modification time or size changes. A failed rebuild keeps the previous
// value: files are often replaced one at a time.
type Reloader[T any] struct {
	files []string
	build func() (T, error)
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	checked time.Time
	stamps  []stamp
	value   T
}

type stamp struct {
	mod  time.Time
	size int64
}

// New builds the first value from files, which must all exist.
func New[T any](files []string, build func() (T, error), log *slog.Logger) (*Reloader[T], error) {
	r := &Reloader[T]{files: files, build: build, log: log, now: time.Now}
	stamps, err := r.stat()
	if err != nil {
		return nil, err
	}
	if r.value, err = build(); err != nil {
		return nil, err
	}
	r.stamps, r.checked = stamps, r.now()
	return r, nil
}

// Current returns the latest value, rebuilt first if a file changed.
func (r *Reloader[T]) Current() T {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.checked) < CheckEvery {
		return r.value
	}
	r.checked = now
	stamps, err := r.stat()
	if err != nil {
		r.log.Warn("cannot check TLS files; keeping the loaded ones", "error", err)
		return r.value
	}
	if equal(stamps, r.stamps) {
		return r.value
	}
	v, err := r.build()
	if err != nil {
		r.log.Warn("cannot reload TLS files; keeping the loaded ones", "error", err)
		return r.value
	}
	r.stamps, r.value = stamps, v
	r.log.Info("reloaded TLS files", "files", r.files)
	return r.value
}

func (r *Reloader[T]) stat() ([]stamp, error) {
	stamps := make([]stamp, len(r.files))
	for i, f := range r.files {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("stat TLS file: %w", err)
		}
		stamps[i] = stamp{fi.ModTime(), fi.Size()}
	}
	return stamps, nil
}

func equal(a, b []stamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].mod.Equal(b[i].mod) || a[i].size != b[i].size {
			return false
		}
	}
	return true
}
