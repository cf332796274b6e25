package retina

import (
	"errors"
	"log/slog"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultRemoteLimit is how many remote address and port pairs
// tcp_connection_remote lists at most.
const DefaultRemoteLimit = 1000

// reader reads one group of series at scrape time: all of them, or an
// error and none, so that a scrape never shows half a group.
type reader struct {
	name  string
	descs []*prometheus.Desc
	read  func() ([]prometheus.Metric, error)
}

// Node reads Retina's node series.
type Node struct {
	log         *slog.Logger
	remoteLimit int
	readers     []reader

	// windows is set by WithHNS: a Windows node, where the Linux readers
	// do not apply.
	windows bool

	mu sync.Mutex
	// ok is whether each reader's last read succeeded; omitted is how many
	// remotes the last read of the sockets left out.
	ok      map[string]bool
	omitted int
}

// Option configures New.
type Option func(*Node)

// WithRemoteLimit sets how many remote address and port pairs
// tcp_connection_remote lists at most: those with the most sockets.
func WithRemoteLimit(n int) Option { return func(c *Node) { c.remoteLimit = n } }

// New returns the node series this system has, logging to log.
func New(log *slog.Logger, opts ...Option) (*Node, error) {
	if log == nil {
		return nil, errors.New("new retina node series: log is nil")
	}
	c := &Node{log: log, remoteLimit: DefaultRemoteLimit, ok: map[string]bool{}}
	for _, o := range opts {
		o(c)
	}
	if c.remoteLimit <= 0 {
		return nil, errors.New("new retina node series: the remote limit must be positive")
	}
	if !c.windows {
		c.readers = append(c.readers, systemReaders(c)...)
	}
	return c, nil
}

// Collector returns the networkobservability_* series. Their names are
// Retina's, so they are to be registered without Fovea's prefix.
func (c *Node) Collector() prometheus.Collector { return nodeCollector{c} }

type nodeCollector struct{ c *Node }

func (n nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, r := range n.c.readers {
		for _, d := range r.descs {
			ch <- d
		}
	}
}

func (n nodeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, r := range n.c.readers {
		ms, err := r.read()
		n.c.result(r.name, err)
		for _, m := range ms {
			ch <- m
		}
	}
}

// result records a reader's outcome, logging when it changes.
func (c *Node) result(name string, err error) {
	c.mu.Lock()
	was, seen := c.ok[name]
	c.ok[name] = err == nil
	c.mu.Unlock()
	switch {
	case err != nil && (was || !seen):
		c.log.Warn("cannot read Retina node series; they are left out until they can be read", "collector", name, "err", err)
	case err == nil && seen && !was:
		c.log.Info("Retina node series read again", "collector", name)
	}
}

func (c *Node) setOmitted(n int) {
	c.mu.Lock()
	c.omitted = n
	c.mu.Unlock()
}

var (
	descSuccess = prometheus.NewDesc("retina_collector_success",
		"Whether the last scrape read a group of Retina's node series (1) or left it out because reading failed (0).", []string{"collector"}, nil)
	descOmitted = prometheus.NewDesc("retina_tcp_remotes_omitted",
		"Remote address and port pairs the last scrape left out of networkobservability_tcp_connection_remote, over its limit.", nil, nil)
)

// HealthCollector returns the series saying how the node series were read.
func (c *Node) HealthCollector() prometheus.Collector { return healthCollector{c} }

type healthCollector struct{ c *Node }

func (h healthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descSuccess
	ch <- descOmitted
}

func (h healthCollector) Collect(ch chan<- prometheus.Metric) {
	c := h.c
	c.mu.Lock()
	names := make([]string, 0, len(c.ok))
	for name := range c.ok {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v := 0.0
		if c.ok[name] {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descSuccess, prometheus.GaugeValue, v, name)
	}
	ch <- prometheus.MustNewConstMetric(descOmitted, prometheus.GaugeValue, float64(c.omitted))
	c.mu.Unlock()
}
