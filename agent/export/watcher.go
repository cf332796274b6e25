package export

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/foveanet/fovea/agent/filewatch"
)

// ConfigWatcher keeps a Manager's dynamic logs those of a configuration
// file. It polls the file as the inventory watcher does (package
// filewatch).
type ConfigWatcher struct {
	path     string
	m        *Manager
	log      *slog.Logger
	notify   Notify
	interval time.Duration

	file    *filewatch.File
	lastErr string // last error reported, so a broken file is reported once

	loads, failures atomic.Uint64
	lastOK          atomic.Bool
}

// WatcherOption configures a ConfigWatcher.
type WatcherOption func(*ConfigWatcher)

// WithWatchLogger sets where reloads and their errors are logged.
func WithWatchLogger(log *slog.Logger) WatcherOption { return func(w *ConfigWatcher) { w.log = log } }

// WithWatchNotify sets how a file that does not load is published as an
// agent event.
func WithWatchNotify(n Notify) WatcherOption { return func(w *ConfigWatcher) { w.notify = n } }

// WithWatchInterval sets how often the file is checked for changes.
func WithWatchInterval(d time.Duration) WatcherOption {
	return func(w *ConfigWatcher) { w.interval = d }
}

// NewConfigWatcher returns a watcher of the configuration at path for m
// and applies the file once: a file that does not load is an error, since
// an agent told to write flow logs must not start without them.
func NewConfigWatcher(path string, m *Manager, opts ...WatcherOption) (*ConfigWatcher, error) {
	w := &ConfigWatcher{path: path, m: m, log: slog.New(slog.DiscardHandler), notify: func(string, string) {}, interval: 5 * time.Second,
		file: filewatch.New(path, "flow log configuration")}
	for _, o := range opts {
		o(w)
	}
	if w.interval <= 0 {
		return nil, fmt.Errorf("flow log configuration poll interval %v must be positive", w.interval)
	}
	if err := w.file.Load(w.apply); err != nil {
		return nil, err
	}
	return w, nil
}

// Run applies the file whenever it changes, until ctx ends. A file that is
// missing or invalid is logged, published and counted, and the logs it
// would have changed go on as they were.
func (w *ConfigWatcher) Run(ctx context.Context) error {
	return w.file.Poll(ctx, w.interval, w.apply, w.fail)
}

// apply parses the configuration and sets the logs it names.
func (w *ConfigWatcher) apply(data []byte) error {
	specs, err := ParseConfig(data)
	if err != nil {
		return err
	}
	if err := w.m.SetLogs(specs); err != nil {
		return fmt.Errorf("apply flow log configuration: %w", err)
	}
	w.loads.Add(1)
	w.lastOK.Store(true)
	w.lastErr = ""
	names := make([]string, len(specs))
	for i := range specs {
		names[i] = specs[i].Name
	}
	w.log.Info("flow log configuration loaded", "path", w.path, "flow_logs", names)
	return nil
}

func (w *ConfigWatcher) fail(err error) {
	w.failures.Add(1)
	w.lastOK.Store(false)
	if msg := err.Error(); msg != w.lastErr {
		w.lastErr = msg
		w.log.Warn("cannot reload the flow log configuration; the flow logs go on as they were", "path", w.path, "err", err)
		w.notify("flowlogs_config_error", fmt.Sprintf("%s: %v", w.path, err))
	}
}
