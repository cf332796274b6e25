package inventory

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/agent/filewatch"
	"github.com/foveanet/fovea/model/intern"
)

// Watcher keeps an endpoints.Store in step with an inventory file.
//
// It polls the file (package filewatch says why).
type Watcher struct {
	path, cluster string
	// node is the agent's node, whose pods the index keeps.
	node     string
	tables   *intern.Tables
	store    *endpoints.Store
	log      *slog.Logger
	interval time.Duration
	counts   counts

	file    *filewatch.File
	lastErr string // last reload error reported, so a broken file is logged once
}

// Option configures a Watcher.
type Option func(*Watcher)

// WithLogger sets where reloads and their errors are logged.
func WithLogger(log *slog.Logger) Option { return func(w *Watcher) { w.log = log } }

// WithLocalNode names the agent's node, whose pods (and those the file
// gives no node) the index keeps for packet captures.
func WithLocalNode(name string) Option { return func(w *Watcher) { w.node = name } }

// WithInterval sets how often the file is checked for changes.
func WithInterval(d time.Duration) Option { return func(w *Watcher) { w.interval = d } }

// New returns a watcher of the inventory at path whose pods belong to
// cluster; it loads the file once, and a file that does not load is an
// error: an agent told to use an inventory must not start without it.
func New(path, cluster string, tables *intern.Tables, store *endpoints.Store, opts ...Option) (*Watcher, error) {
	w := &Watcher{
		path: path, cluster: cluster, tables: tables, store: store,
		log: slog.New(slog.DiscardHandler), interval: 2 * time.Second,
		file: filewatch.New(path, "inventory"),
	}
	for _, o := range opts {
		o(w)
	}
	if w.interval <= 0 {
		return nil, fmt.Errorf("inventory poll interval %v must be positive", w.interval)
	}
	if err := w.file.Load(w.apply); err != nil {
		return nil, err
	}
	return w, nil
}

// Run re-reads the file whenever it changes, until ctx ends. A file that
// is missing or does not parse is logged and counted, and the last good
// inventory stays in use.
func (w *Watcher) Run(ctx context.Context) error {
	return w.file.Poll(ctx, w.interval, w.apply, w.fail)
}

// apply parses and indexes the file's content, and swaps the new index in.
func (w *Watcher) apply(data []byte) error {
	pods, services, err := Parse(data, w.cluster)
	if err != nil {
		return err
	}
	var opts []endpoints.BuildOption
	if w.node != "" {
		opts = append(opts, endpoints.KeepLocalPods(w.node))
	}
	ix, err := endpoints.Build(w.tables, pods, services, opts...)
	if err != nil {
		return fmt.Errorf("parse inventory: %w", err)
	}
	w.store.Replace(ix)
	w.counts.loads.Add(1)
	w.counts.lastOK.Store(true)
	w.lastErr = ""
	w.log.Info("inventory loaded", "path", w.path, "pods", ix.Pods, "services", ix.Services)
	return nil
}

func (w *Watcher) fail(err error) {
	w.counts.failures.Add(1)
	w.counts.lastOK.Store(false)
	if msg := err.Error(); msg != w.lastErr {
		w.lastErr = msg
		w.log.Warn("cannot reload the inventory; keeping the last good one", "path", w.path, "err", err)
	}
}
