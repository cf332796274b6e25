//go:build linux

package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/traffic"
)

// Run runs the demo until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) (err error) {
	if os.Geteuid() != 0 {
		return errors.New("run demo: needs root (network namespaces and eBPF)")
	}
	if err := cluster.Cleanup(ctx, cluster.DefaultPrefix, log); err != nil {
		return fmt.Errorf("clean up a previous demo: %w", err)
	}
	c, err := cluster.Build(ctx, cluster.Config{
		Nodes: cfg.Nodes, PodsPerNode: cfg.PodsPerNode, StateDir: cfg.StateDir, Logger: log,
	})
	if err != nil {
		return fmt.Errorf("build cluster: %w", err)
	}
	defer func() {
		// ctx is done by now; cleanup gets its own time.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = errors.Join(err, c.Close(cleanup))
	}()

	sockets, err := StartAgents(ctx, c, cfg.Agent, cfg.RingCapacity)
	if err != nil {
		return err
	}
	trafficCtx, stopTraffic := context.WithCancel(ctx)
	defer stopTraffic()
	go func() {
		if err := traffic.RunMix(trafficCtx, traffic.MixConfig{Hosts: c.Hosts(), Rate: cfg.Rate, Logger: log}); err != nil {
			log.Error("traffic stopped", "err", err)
		}
	}()

	for i, n := range c.Topology.Nodes {
		fmt.Printf("node %s: hubble observe --server unix://%s\n", n.Name, sockets[i])
	}
	if cfg.Hubble == "" {
		fmt.Println("demo running; Ctrl-C stops it")
		<-ctx.Done()
		return nil
	}
	return observe(ctx, cfg.Hubble, sockets[0])
}

// StartAgents runs `fovea agent` (the binary at agent) in every node's
// namespace and waits until each serves its socket; it returns the sockets in
// node order. The cluster stops the agents when it is closed.
func StartAgents(ctx context.Context, c *cluster.Cluster, agent string, ringCapacity int) ([]string, error) {
	sockets := make([]string, 0, len(c.Topology.Nodes))
	procs := make([]*cluster.Process, 0, len(c.Topology.Nodes))
	for _, n := range c.Topology.Nodes {
		sock := filepath.Join(c.NodeStateDir(n.Name), "hubble.sock")
		p, err := c.StartProcess(ctx, n.Name, cluster.ProcessSpec{
			Name: "agent",
			Path: agent,
			Args: []string{"agent", "--node-name", n.Name, "--socket-path", sock,
				"--listen-address", "", "--metrics-address", "", "--ring-capacity", strconv.Itoa(ringCapacity)},
			StopTimeout: 10 * time.Second,
		})
		if err != nil {
			return nil, fmt.Errorf("start agent on %s: %w", n.Name, err)
		}
		sockets, procs = append(sockets, sock), append(procs, p)
	}
	for i, sock := range sockets {
		if err := waitForSocket(ctx, sock, procs[i], 30*time.Second); err != nil {
			return nil, fmt.Errorf("agent on %s (logs in %s): %w", c.Topology.Nodes[i].Name,
				c.NodeStateDir(c.Topology.Nodes[i].Name), err)
		}
	}
	return sockets, nil
}

func waitForSocket(ctx context.Context, path string, p *cluster.Process, limit time.Duration) error {
	deadline := time.After(limit)
	for {
		if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("exited before serving %s: %v", path, p.Err())
		case <-deadline:
			return fmt.Errorf("no socket at %s after %v", path, limit)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// observe shows the node's flows with the real hubble CLI until ctx ends.
func observe(ctx context.Context, hubble, socket string) error {
	cmd := exec.CommandContext(ctx, hubble, "observe", "--follow", "--print-node-name", "--server", "unix://"+socket)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("run %s observe: %w", hubble, err)
	}
	return nil
}
