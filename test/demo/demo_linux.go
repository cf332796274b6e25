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

	// The inventory gives the demo's flows pod names, namespaces, labels
	// and workloads, as Kubernetes would.
	inv := filepath.Join(cfg.StateDir, "inventory.yaml")
	if err := WriteInventory(inv, Inventory(c.Topology)); err != nil {
		return err
	}
	sockets, err := StartAgents(ctx, c, cfg.Agent, cfg.RingCapacity, ListenTCP(fmt.Sprintf(":%d", AgentPort)), WithInventory(inv))
	if err != nil {
		return err
	}
	relaySocket, _, err := StartRelay(ctx, c, cfg.Agent, "relay")
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
	fmt.Printf("all nodes (relay): hubble observe --server unix://%s\n", relaySocket)
	if cfg.Hubble == "" {
		fmt.Println("demo running; Ctrl-C stops it")
		<-ctx.Done()
		return nil
	}
	return observe(ctx, cfg.Hubble, relaySocket)
}

// AgentOption configures the agents StartAgents and StartAgent run.
type AgentOption func(*agentOptions)

type agentOptions struct {
	listen, inventory, kubeconfig, metrics string
	args                                   []string
}

// ListenTCP makes agents also serve the Hubble API in plaintext on the TCP
// address listen (such as ":4244") of their node, for a relay.
func ListenTCP(listen string) AgentOption { return func(o *agentOptions) { o.listen = listen } }

// WithInventory makes agents label flows with the pods and services of the
// inventory file at path (see WriteInventory).
func WithInventory(path string) AgentOption { return func(o *agentOptions) { o.inventory = path } }

// WithKubeconfig makes agents label flows with the pods and services of
// the Kubernetes cluster the kubeconfig file at path describes.
func WithKubeconfig(path string) AgentOption { return func(o *agentOptions) { o.kubeconfig = path } }

// WithMetricsAddress makes agents serve /metrics on addr (such as
// "127.0.0.1:9965") in their node's namespace; by default they serve none.
func WithMetricsAddress(addr string) AgentOption { return func(o *agentOptions) { o.metrics = addr } }

// WithAgentArgs passes args (flags such as "--intern-sweep-interval=1s")
// to agents after the ones the other options set.
func WithAgentArgs(args ...string) AgentOption {
	return func(o *agentOptions) { o.args = append(o.args, args...) }
}

// StartAgents runs `fovea agent` (the binary at agent) in every node's
// namespace and waits until each serves its socket; it returns the sockets in
// node order. The cluster stops the agents when it is closed.
func StartAgents(ctx context.Context, c *cluster.Cluster, agent string, ringCapacity int, opts ...AgentOption) ([]string, error) {
	sockets := make([]string, 0, len(c.Topology.Nodes))
	procs := make([]*cluster.Process, 0, len(c.Topology.Nodes))
	for _, n := range c.Topology.Nodes {
		sock, p, err := startAgent(ctx, c, n.Name, agent, ringCapacity, opts)
		if err != nil {
			return nil, err
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

// StartAgent runs `fovea agent` on one node, as StartAgents does, and waits
// until it serves its socket; stopping the process stops the agent.
func StartAgent(ctx context.Context, c *cluster.Cluster, node, agent string, ringCapacity int, opts ...AgentOption) (string, *cluster.Process, error) {
	sock, p, err := startAgent(ctx, c, node, agent, ringCapacity, opts)
	if err != nil {
		return "", nil, err
	}
	if err := waitForSocket(ctx, sock, p, 30*time.Second); err != nil {
		return "", nil, fmt.Errorf("agent on %s (logs in %s): %w", node, c.NodeStateDir(node), err)
	}
	return sock, p, nil
}

func startAgent(ctx context.Context, c *cluster.Cluster, node, agent string, ringCapacity int, opts []AgentOption) (string, *cluster.Process, error) {
	var o agentOptions
	for _, opt := range opts {
		opt(&o)
	}
	sock := filepath.Join(c.NodeStateDir(node), "hubble.sock")
	args := []string{"agent", "--node-name", node, "--socket-path", sock,
		"--listen-address", o.listen, "--metrics-address", o.metrics, "--ring-capacity", strconv.Itoa(ringCapacity),
		// Nodes share the machine's file system; each keeps its own captures.
		"--capture-dir", filepath.Join(c.NodeStateDir(node), "captures")}
	if o.listen != "" {
		args = append(args, "--insecure")
	}
	if o.inventory != "" {
		// Polled often, so a test that rewrites the file waits little.
		args = append(args, "--inventory", o.inventory, "--inventory-interval", "200ms")
	}
	if o.kubeconfig != "" {
		args = append(args, "--kubeconfig", o.kubeconfig)
	}
	args = append(args, o.args...)
	p, err := c.StartProcess(ctx, node, cluster.ProcessSpec{Name: "agent", Path: agent, Args: args, StopTimeout: 10 * time.Second})
	if err != nil {
		return "", nil, fmt.Errorf("start agent on %s: %w", node, err)
	}
	return sock, p, nil
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

// observe shows the flows served at socket with the real hubble CLI until
// ctx ends.
func observe(ctx context.Context, hubble, socket string) error {
	cmd := exec.CommandContext(ctx, hubble, "observe", "--follow", "--print-node-name", "--server", "unix://"+socket)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("run %s observe: %w", hubble, err)
	}
	return nil
}
