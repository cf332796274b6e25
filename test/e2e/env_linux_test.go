//go:build linux

package e2e

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/traffic"
)

const (
	prefix       = "foveae2e-"
	ringCapacity = 65535
)

// env is the cluster every test shares: building it and starting agents
// takes seconds, and tests tell their traffic apart by address and port.
type env struct {
	cluster   *cluster.Cluster
	sockets   map[string]string // node name → agent socket
	hosts     []traffic.Host    // pods in node order
	fovea     string
	hubbleBin string
	// inventory is the file the agents label pods from.
	inventory string
	// stop ends the agents and traffic servers, which outlive setup.
	stop context.CancelFunc
}

// testLog is where the harness logs: warnings and errors only.
var testLog = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

var (
	shared     *env
	sharedErr  error
	sharedOnce sync.Once
	// sharedDir holds the shared cluster's state (agent logs, the
	// inventory), removed once the tests are done.
	sharedDir string
)

// setup returns the shared cluster, building it on first use. Tests skip when
// not root, since namespaces and eBPF need it; everything else is a failure.
func setup(t *testing.T) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: builds network namespaces and loads eBPF programs")
	}
	sharedOnce.Do(func() { shared, sharedErr = build() })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func build() (*env, error) {
	fovea, hubble, err := binaries()
	if err != nil {
		return nil, err
	}
	stateDir, err := os.MkdirTemp("", "fovea-e2e-")
	if err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	sharedDir = stateDir
	return newEnv(cluster.Config{Prefix: prefix, Nodes: 2, PodsPerNode: 2, StateDir: stateDir}, fovea, hubble)
}

// binaries returns the agent and hubble CLI the tests run, named by
// FOVEA_BIN and HUBBLE_BIN.
func binaries() (fovea, hubble string, err error) {
	fovea, hubble = os.Getenv("FOVEA_BIN"), os.Getenv("HUBBLE_BIN")
	for name, path := range map[string]string{"FOVEA_BIN": fovea, "HUBBLE_BIN": hubble} {
		if path == "" {
			return "", "", fmt.Errorf("%s is not set: run the end-to-end tests with `make e2e`", name)
		}
		if _, err := os.Stat(path); err != nil {
			return "", "", fmt.Errorf("%s: %w", name, err)
		}
	}
	return fovea, hubble, nil
}

// newEnv builds the cluster cfg describes, over an earlier run's leftovers,
// with agents labelling pods from an inventory in cfg.StateDir and traffic
// servers in every pod; stop and Close end them.
func newEnv(cfg cluster.Config, fovea, hubble string) (*env, error) {
	e, life, err := buildEnv(cfg, fovea, hubble)
	if err != nil {
		return nil, err
	}
	if err = e.startAgents(life); err == nil {
		err = e.serve(life)
	}
	if err != nil {
		e.stop()
		return nil, errors.Join(err, e.cluster.Close(context.Background()))
	}
	return e, nil
}

// buildEnv builds the cluster cfg describes, over an earlier run's
// leftovers, and writes its inventory in cfg.StateDir; it starts nothing.
// life ends when e.stop is called: what a test starts with it outlives
// setup until then.
func buildEnv(cfg cluster.Config, fovea, hubble string) (e *env, life context.Context, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := cluster.Cleanup(ctx, cfg.Prefix, testLog); err != nil {
		return nil, nil, fmt.Errorf("clean up an earlier run: %w", err)
	}
	cfg.Logger = testLog
	c, err := cluster.Build(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("build cluster: %w", err)
	}
	inventory := filepath.Join(cfg.StateDir, "inventory.yaml")
	if err := demo.WriteInventory(inventory, demo.Inventory(c.Topology)); err != nil {
		return nil, nil, errors.Join(err, c.Close(context.Background()))
	}
	life, stop := context.WithCancel(context.Background())
	e = &env{cluster: c, sockets: map[string]string{}, hosts: c.Hosts(), fovea: fovea, hubbleBin: hubble, inventory: inventory, stop: stop}
	return e, life, nil
}

// startAgents starts every node's agent, labelling pods from the
// inventory, with opts, until life ends.
func (e *env) startAgents(life context.Context, opts ...demo.AgentOption) error {
	sockets, err := demo.StartAgents(life, e.cluster, e.fovea, ringCapacity, append(opts, demo.WithInventory(e.inventory))...)
	if err != nil {
		return err
	}
	for i, n := range e.cluster.Topology.Nodes {
		e.sockets[n.Name] = sockets[i]
	}
	return nil
}

// serve starts a traffic server in every pod until life ends.
func (e *env) serve(life context.Context) error {
	for _, h := range e.hosts {
		if _, err := traffic.Serve(life, h, testLog); err != nil {
			return fmt.Errorf("serve on %s: %w", h.Name, err)
		}
	}
	return nil
}

// setupOwn builds a cluster of the test's own from cfg, which names its own
// Prefix, in a state directory of t's, with agents and servers as newEnv
// starts them; all is removed when t ends. Tests use it for layouts the
// shared cluster does not have.
func setupOwn(t *testing.T, cfg cluster.Config) *env {
	t.Helper()
	e, life := ownCluster(t, cfg)
	if err := e.startAgents(life); err != nil {
		t.Fatal(err)
	}
	if err := e.serve(life); err != nil {
		t.Fatal(err)
	}
	return e
}

// ownCluster builds a cluster of the test's own from cfg, which names its
// own Prefix, in cfg.StateDir or else a state directory of t's, with its
// inventory and nothing started: the test starts agents and servers with
// life. When t ends, life ends, the agents' logs are dumped if t failed,
// and the cluster is removed; cleanups the test registered later run
// first.
func ownCluster(t testing.TB, cfg cluster.Config) (*env, context.Context) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: builds network namespaces and loads eBPF programs")
	}
	fovea, hubble, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StateDir == "" {
		cfg.StateDir = t.TempDir()
	}
	e, life, err := buildEnv(cfg, fovea, hubble)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.stop()
		if t.Failed() {
			dumpLogs(e)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := e.cluster.Close(ctx); err != nil {
			t.Errorf("close cluster: %v", err)
		}
	})
	return e, life
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.stop()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := shared.cluster.Close(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "close cluster:", err)
			code = 1
		}
		cancel()
		if code != 0 {
			dumpLogs(shared)
		}
	}
	if sharedDir != "" {
		if err := os.RemoveAll(sharedDir); err != nil {
			fmt.Fprintln(os.Stderr, "remove state dir:", err)
		}
	}
	os.Exit(code)
}

// dumpLogs prints the agents' logs after a failure, where CI shows them.
func dumpLogs(e *env) {
	for _, n := range e.cluster.Topology.Nodes {
		for _, f := range []string{"agent.stdout.log", "agent.stderr.log"} {
			data, err := os.ReadFile(filepath.Join(e.cluster.NodeStateDir(n.Name), f))
			if err == nil && len(data) > 0 {
				fmt.Fprintf(os.Stderr, "=== %s %s\n%s\n", n.Name, f, data)
			}
		}
	}
}

// pod returns the i-th pod (node order) and the socket of its node's agent.
func (e *env) pod(i int) (traffic.Host, string) {
	h := e.hosts[i]
	p, _ := e.cluster.Topology.Pod(h.Name)
	return h, e.sockets[p.Node]
}
