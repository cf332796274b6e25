//go:build linux

package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
)

// Cluster is a built cluster. Close removes it.
type Cluster struct {
	Topology Topology

	cfg    Config
	logger *slog.Logger

	mu    sync.Mutex
	procs []*Process
}

// Build creates the namespaces, links, addresses and routes cfg describes.
// It refuses to run over leftovers with the same prefix (call Cleanup
// first); on failure it removes what it created.
func Build(ctx context.Context, cfg Config) (*Cluster, error) {
	cfg = cfg.withDefaults()
	topo, err := Plan(cfg)
	if err != nil {
		return nil, err
	}
	existing, err := prefixedNetns(ctx, cfg.Prefix)
	if err != nil {
		return nil, err
	}
	if len(existing) > 0 {
		return nil, fmt.Errorf("build cluster: netns %v with prefix %q exist; clean up first", existing, cfg.Prefix)
	}
	c := &Cluster{Topology: topo, cfg: cfg, logger: cfg.Logger}
	if err := c.build(ctx); err != nil {
		if cerr := Cleanup(context.WithoutCancel(ctx), cfg.Prefix, cfg.Logger); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return nil, fmt.Errorf("build cluster: %w", err)
	}
	c.logger.Info("cluster built", "prefix", cfg.Prefix, "nodes", len(topo.Nodes), "pods", len(topo.Pods()))
	return c, nil
}

// Fabric returns the namespace holding the underlay bridge.
func (c *Cluster) Fabric() *Netns { return NewNetns(c.Topology.Fabric) }

// NodeNetns returns the namespace of the node named name.
func (c *Cluster) NodeNetns(name string) (*Netns, error) {
	node, ok := c.Topology.Node(name)
	if !ok {
		return nil, fmt.Errorf("unknown node %q", name)
	}
	return NewNetns(node.Netns), nil
}

// PodNetns returns the namespace of the pod whose Key is key.
func (c *Cluster) PodNetns(key string) (*Netns, error) {
	pod, ok := c.Topology.Pod(key)
	if !ok {
		return nil, fmt.Errorf("unknown pod %q", key)
	}
	return NewNetns(pod.Netns), nil
}

// NodeStateDir returns the node's directory under StateDir, for logs and
// sockets of processes running on that node.
func (c *Cluster) NodeStateDir(node string) string {
	return filepath.Join(c.cfg.StateDir, node)
}

// StartProcess starts spec in the node's namespace, logging to the node's
// state directory unless spec.LogDir is set; Close stops it.
func (c *Cluster) StartProcess(ctx context.Context, node string, spec ProcessSpec) (*Process, error) {
	ns, err := c.NodeNetns(node)
	if err != nil {
		return nil, err
	}
	if spec.LogDir == "" {
		spec.LogDir = c.NodeStateDir(node)
	}
	p, err := ns.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	c.logger.Info("process started", "node", node, "name", spec.Name, "pid", p.Pid)
	return p, nil
}

// Close stops the processes StartProcess started, then removes every
// namespace (and with them every link) of the cluster.
func (c *Cluster) Close(ctx context.Context) error {
	c.mu.Lock()
	procs := c.procs
	c.procs = nil
	c.mu.Unlock()
	var errs []error
	for _, p := range procs {
		if err := p.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop process %d: %w", p.Pid, err))
		}
	}
	if err := Cleanup(ctx, c.cfg.Prefix, c.logger); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
