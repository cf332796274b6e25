//go:build linux

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"sigs.k8s.io/yaml"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/traffic"
)

// chartValues is the Helm chart's values file, which grants the agent its
// capabilities.
const chartValues = "../../helm/fovea/values.yaml"

// chartCapabilities returns the capabilities the chart adds to the agent
// container (after dropping all).
func chartCapabilities(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(chartValues)
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Agent struct {
			SecurityContext struct {
				Capabilities struct{ Drop, Add []string }
			} `json:"securityContext"`
		}
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatalf("%s: %v", chartValues, err)
	}
	caps := values.Agent.SecurityContext.Capabilities
	if !slices.Equal(caps.Drop, []string{"ALL"}) || len(caps.Add) == 0 {
		t.Fatalf("%s: agent capabilities drop %v add %v, want drop [ALL] and some added", chartValues, caps.Drop, caps.Add)
	}
	return caps.Add
}

// withCapabilities writes a wrapper that runs fovea as root with exactly
// caps, as a container runtime does for a root container that drops all,
// adds caps and disallows privilege escalation: the bounding set limits
// what root's exec keeps, nothing is inheritable, and no_new_privs is set.
func withCapabilities(t *testing.T, fovea string, caps []string) string {
	t.Helper()
	set := "-all"
	for _, c := range caps {
		set += ",+" + strings.ToLower(c)
	}
	path := filepath.Join(t.TempDir(), "fovea-caps")
	script := fmt.Sprintf("#!/bin/sh\nexec setpriv --no-new-privs --bounding-set=%s --inh-caps=-all -- %s \"$@\"\n", set, fovea)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAgentCapabilities runs the agent with exactly the capabilities the
// chart grants it and checks that it observes a pod's traffic and the
// kernel's drops inside a pod (the BTF tracepoint, and the pod namespace
// found among those pinned in /run/netns); then, for each of those
// capabilities, that the agent cannot start without it. So the chart grants
// no capability the agent does without, and none too few.
func TestAgentCapabilities(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: builds network namespaces and loads eBPF programs")
	}
	fovea, hubble, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	caps := chartCapabilities(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	const prefix = "foveacap-"
	if err := cluster.Cleanup(ctx, prefix, log); err != nil {
		t.Fatal(err)
	}
	c, err := cluster.Build(ctx, cluster.Config{Prefix: prefix, Nodes: 1, PodsPerNode: 2, StateDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(context.Background()); err != nil {
			t.Errorf("close cluster: %v", err)
		}
	})
	e := &env{cluster: c, hosts: c.Hosts(), fovea: fovea, hubbleBin: hubble}
	node := c.Topology.Nodes[0].Name
	src, dst := e.hosts[0], e.hosts[1]

	t.Run("granted", func(t *testing.T) {
		sock, p, err := demo.StartAgent(ctx, c, node, withCapabilities(t, fovea, caps), ringCapacity)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Stop()
		if _, err := traffic.ICMP(ctx, src, dst, traffic.IPv4, 3); err != nil {
			t.Fatal(err)
		}
		closed := netip.AddrPortFrom(dst.IPv4, closedPort)
		eventually(t, 20*time.Second, func() error {
			_ = dialFrom(t, src, "tcp", closed)
			flows := e.observeJSON(t, sock, "--last", "10000", "--ip", src.IPv4.String())
			if findDrop(flows, src.IPv4, dst.IPv4, closedPort, "TCP Flags: SYN") == nil {
				return fmt.Errorf("no drop of the SYN to %s inside the pod among %s", closed, describe(flows))
			}
			for _, f := range flows {
				if f.GetVerdict() == flowpb.Verdict_FORWARDED && f.GetL4().GetICMPv4() != nil && f.GetIP().GetDestination() == dst.IPv4.String() {
					return nil
				}
			}
			return fmt.Errorf("no ICMP flow to %s among %s", dst.IPv4, describe(flows))
		})
	})

	ns, err := c.NodeNetns(node)
	if err != nil {
		t.Fatal(err)
	}
	for _, missing := range caps {
		t.Run("without "+missing, func(t *testing.T) {
			rest := slices.DeleteFunc(slices.Clone(caps), func(c string) bool { return c == missing })
			// Started in the node's namespace, not through the cluster,
			// which would report the exit it expects as an error.
			p, err := ns.Start(ctx, cluster.ProcessSpec{Name: "agent", Path: withCapabilities(t, fovea, rest), LogDir: t.TempDir(),
				Args: []string{"agent", "--node-name", node, "--socket-path", filepath.Join(t.TempDir(), "hubble.sock"), "--listen-address", "", "--metrics-address", ""}})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-p.Done():
			case <-time.After(30 * time.Second):
				p.Stop()
				t.Fatalf("the agent runs without %s: the chart need not grant it", missing)
			}
			stderr, _ := os.ReadFile(p.StderrPath)
			if p.Err() == nil || !strings.Contains(string(stderr), "load eBPF datapath") {
				t.Fatalf("the agent without %s ended (%v), but not failing to load its programs:\n%s", missing, p.Err(), stderr)
			}
			t.Logf("without %s: %s", missing, lastLine(stderr))
		})
	}
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
