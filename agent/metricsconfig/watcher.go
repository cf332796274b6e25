package metricsconfig

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/foveanet/fovea/agent/flowmetrics"
	"github.com/foveanet/fovea/agent/periodic"
)

// Applier is what the file configures; *flowmetrics.Metrics is one.
type Applier interface {
	// Apply replaces the handlers with those cfg enables, or returns why
	// it cannot and keeps them.
	Apply(cfg flowmetrics.Config) error
}

// Watcher applies a metrics config file, and applies it again whenever its
// content changes.
//
// It reads the file at every tick and compares its hash with the last
// one's, rather than its modification time and size: the file is small,
// a polled read follows the symlink swaps of a mounted ConfigMap and the
// rename-over of editors, and an edit that keeps the size within the
// kernel's coarse file-time granularity is still seen.
type Watcher struct {
	path     string
	metrics  Applier
	log      *slog.Logger
	notify   func(event, detail string)
	interval time.Duration
	counts   counts

	// sum is the hash of the content last read, good or bad, so that each
	// content is applied or reported once; zero while the file cannot be
	// read, which is reported once too.
	sum [sha256.Size]byte
}

// Option configures a Watcher.
type Option func(*Watcher)

// WithLogger sets where loads and their errors are logged.
func WithLogger(log *slog.Logger) Option { return func(w *Watcher) { w.log = log } }

// WithInterval sets how often the file is read for changes.
func WithInterval(d time.Duration) Option { return func(w *Watcher) { w.interval = d } }

// WithNotify calls notify with an event name (metrics_config_reloaded,
// metrics_config_rejected) and a detail when a change of the file is
// applied or refused, for agent events.
func WithNotify(notify func(event, detail string)) Option {
	return func(w *Watcher) { w.notify = notify }
}

// New returns a watcher of the config file at path that configures
// metrics. It applies the file once, and a file that does not apply is an
// error: an agent told to count metrics must not start without them.
func New(path string, metrics Applier, opts ...Option) (*Watcher, error) {
	w := &Watcher{
		path: path, metrics: metrics,
		log: slog.New(slog.DiscardHandler), notify: func(string, string) {}, interval: 2 * time.Second,
	}
	for _, o := range opts {
		o(w)
	}
	if w.interval <= 0 {
		return nil, fmt.Errorf("metrics config poll interval %v must be positive", w.interval)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read metrics config: %w", err)
	}
	names, err := w.load(data)
	if err != nil {
		return nil, err
	}
	w.log.Info("metrics config loaded", "path", w.path, "metrics", names)
	return w, nil
}

// Run applies the file whenever its content changes, until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	return periodic.Run(ctx, w.interval, func() error {
		w.check()
		return nil
	})
}

// check applies the file if its content changed since it was last read.
func (w *Watcher) check() {
	data, err := os.ReadFile(w.path)
	if err != nil {
		if w.sum != ([sha256.Size]byte{}) {
			w.sum = [sha256.Size]byte{}
			w.fail(fmt.Errorf("read metrics config: %w", err))
		}
		return
	}
	if sha256.Sum256(data) == w.sum {
		return
	}
	names, err := w.load(data)
	if err != nil {
		w.fail(err)
		return
	}
	w.log.Info("metrics config reloaded", "path", w.path, "metrics", names)
	w.notify("metrics_config_reloaded", "metrics: "+strings.Join(names, ", "))
}

// load parses and applies data, and returns the metrics it enables.
func (w *Watcher) load(data []byte) ([]string, error) {
	w.sum = sha256.Sum256(data)
	cfg, err := flowmetrics.ParseConfig(data)
	if err != nil {
		return nil, err
	}
	if err := w.metrics.Apply(cfg); err != nil {
		return nil, fmt.Errorf("apply metrics config: %w", err)
	}
	w.counts.loads.Add(1)
	w.counts.lastOK.Store(true)
	names := make([]string, len(cfg.Metrics))
	for i, m := range cfg.Metrics {
		names[i] = m.Name
	}
	return names, nil
}

func (w *Watcher) fail(err error) {
	w.counts.errors.Add(1)
	w.counts.lastOK.Store(false)
	w.log.Warn("cannot reload the metrics config; keeping the metrics counted so far", "path", w.path, "err", err)
	w.notify("metrics_config_rejected", err.Error())
}
