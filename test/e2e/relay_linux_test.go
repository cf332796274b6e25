//go:build linux

package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/testca"
	"github.com/foveanet/fovea/test/traffic"
)

// relayPrefix keeps the relay's cluster apart from the shared one: its
// tests stop agents, which the other tests must not see.
const relayPrefix = "foverelay-"

// relayMetricsAddress is where the relay serves /metrics, in node1's
// namespace.
const relayMetricsAddress = "127.0.0.1:9966"

// relayEnv is a three-node cluster whose agents serve TCP, with a relay on
// the first node.
type relayEnv struct {
	*env
	relay  string                      // relay unix socket
	agents map[string]*cluster.Process // node name → agent
	life   context.Context
}

func setupRelay(t *testing.T) *relayEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: builds network namespaces and loads eBPF programs")
	}
	// Agents name pods, so Hubble UI's request (by namespace and labels)
	// has something to match.
	e, life := ownCluster(t, cluster.Config{Prefix: relayPrefix, Nodes: 3, PodsPerNode: 2})
	re := &relayEnv{env: e, agents: map[string]*cluster.Process{}, life: life}
	t.Cleanup(func() {
		if t.Failed() {
			re.dumpRelayLog()
		}
	})
	for _, n := range e.cluster.Topology.Nodes {
		re.startAgent(t, n.Name)
	}
	if err := e.serve(life); err != nil {
		t.Fatal(err)
	}
	var err error
	re.relay, _, err = demo.StartRelay(life, e.cluster, e.fovea, "relay",
		"--sort-buffer-drain-timeout", "500ms", "--peer-update-interval", "500ms", "--retry-timeout", "2s",
		"--metrics-address", relayMetricsAddress)
	if err != nil {
		t.Fatal(err)
	}
	return re
}

func (re *relayEnv) startAgent(t *testing.T, node string) {
	t.Helper()
	sock, p, err := demo.StartAgent(re.life, re.cluster, node, re.fovea, ringCapacity,
		demo.ListenTCP(fmt.Sprintf(":%d", demo.AgentPort)), demo.WithInventory(re.inventory))
	if err != nil {
		t.Fatal(err)
	}
	re.sockets[node], re.agents[node] = sock, p
}

func (re *relayEnv) dumpRelayLog() {
	data, err := os.ReadFile(filepath.Join(re.cluster.NodeStateDir(re.cluster.Topology.Nodes[0].Name), "relay.stderr.log"))
	if err == nil {
		fmt.Fprintf(os.Stderr, "=== relay stderr\n%s\n", data)
	}
}

// podOn returns the i-th pod of node n (1-based node numbers).
func (re *relayEnv) podOn(n, i int) traffic.Host {
	return re.hosts[(n-1)*2+i]
}

// connectAround makes one TCP connection from every node to the next, so
// that every node holds flows.
func (re *relayEnv) connectAround(t *testing.T) []traffic.Conn {
	t.Helper()
	var conns []traffic.Conn
	for n := 1; n <= 3; n++ {
		c, err := traffic.TCPShort(context.Background(), re.podOn(n, 0), re.podOn(n%3+1, 1), traffic.IPv4)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	return conns
}

func nodeNames(flows []*flowpb.Flow) []string {
	var names []string
	for _, f := range flows {
		if !slices.Contains(names, f.GetNodeName()) {
			names = append(names, f.GetNodeName())
		}
	}
	slices.Sort(names)
	return names
}

func TestRelay(t *testing.T) {
	re := setupRelay(t)
	allNodes := []string{"default/node1", "default/node2", "default/node3"}

	t.Run("observe sees every node in time order", func(t *testing.T) {
		conns := re.connectAround(t)
		eventually(t, 15*time.Second, func() error {
			flows := re.observeJSON(t, re.relay, "--last", "100000")
			if got := nodeNames(flows); !slices.Equal(got, allNodes) {
				return fmt.Errorf("flows from nodes %v, want %v", got, allNodes)
			}
			if !slices.IsSortedFunc(flows, func(a, b *flowpb.Flow) int { return a.GetTime().AsTime().Compare(b.GetTime().AsTime()) }) {
				return errors.New("flows are not in time order")
			}
			for _, c := range conns {
				requests, _ := connFlows(c, flows)
				// A cross-node connection shows on the source's and the
				// destination's node.
				if got := nodeNames(requests); len(got) != 2 {
					return fmt.Errorf("request flows of %s from nodes %v, want two", c, got)
				}
			}
			return nil
		})
	})

	// The relay connects to each peer on its own: flows from all three
	// above need not mean all three are connected now.
	t.Run("list nodes", func(t *testing.T) {
		eventually(t, 15*time.Second, func() error {
			return connectedNodes(re.hubble(t, re.relay, "list", "nodes"), allNodes)
		})
	})

	t.Run("status aggregates", func(t *testing.T) {
		eventually(t, 15*time.Second, func() error {
			out := re.hubble(t, re.relay, "status")
			for _, want := range []string{"Healthcheck (via unix://" + re.relay + "): Ok", "Connected Nodes: 3/3", "/196,605"} {
				if !strings.Contains(out, want) {
					return fmt.Errorf("hubble status lacks %q:\n%s", want, out)
				}
			}
			return nil
		})
	})

	t.Run("metrics while flows stream", func(t *testing.T) { testRelayMetrics(t, re) })
	t.Run("Hubble UI's request", func(t *testing.T) { testHubbleUIContract(t, re) })
	t.Run("discovery through peer.Notify", func(t *testing.T) { testRelayDiscovery(t, re) })
	t.Run("follow survives an agent restart", func(t *testing.T) { testRelayAgentRestart(t, re) })
	t.Run("mutual TLS", func(t *testing.T) { testRelayMTLS(t, re) })
}

// testRelayDiscovery runs a relay that learns its peers from node1's agent
// peer service, which announces node1 at its TCP address.
func testRelayDiscovery(t *testing.T, re *relayEnv) {
	node := re.cluster.Topology.Nodes[0].Name
	sock := filepath.Join(re.cluster.NodeStateDir(node), "relay-notify.sock")
	_, err := re.cluster.StartProcess(re.life, node, cluster.ProcessSpec{
		Name: "relay-notify", Path: re.fovea,
		Args: []string{"relay", "--socket-path", sock, "--listen-address", "", "--peer-insecure",
			"--peer-service", "unix://" + re.sockets[node]},
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, func() error {
		if _, err := os.Stat(sock); err != nil {
			return err
		}
		out := re.hubble(t, sock, "list", "nodes")
		if !strings.Contains(out, "default/node1") || !strings.Contains(out, "Connected") {
			return fmt.Errorf("hubble list nodes:\n%s", out)
		}
		return nil
	})
	// Connected is not yet streaming: wait for flows, then check whose.
	var flows []*flowpb.Flow
	eventually(t, 15*time.Second, func() error {
		if flows = re.observeJSON(t, sock, "--last", "10"); len(flows) == 0 {
			return errors.New("no flows through the relay yet")
		}
		return nil
	})
	if got := nodeNames(flows); !slices.Equal(got, []string{"default/node1"}) {
		t.Fatalf("flows from nodes %v, want node1's", got)
	}
}

// followEveryNode makes connections around the cluster until ctx ends, so
// that every node has flows all along, and follows the relay until a flow
// from each node has come.
func (re *relayEnv) followEveryNode(ctx context.Context, t *testing.T) (stdout, stderr <-chan string) {
	t.Helper()
	stdout, stderr = re.followLines(ctx, t)
	go func() {
		for ctx.Err() == nil {
			for n := 1; n <= 3; n++ {
				_, _ = traffic.TCPShort(ctx, re.podOn(n, 0), re.podOn(n%3+1, 1), traffic.IPv4)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	for _, n := range []string{"default/node1", "default/node2", "default/node3"} {
		waitLine(t, stdout, 20*time.Second, "flows from "+n, "["+n+"]")
	}
	return stdout, stderr
}

// followLines runs `hubble observe --follow --print-node-name` through the
// relay and sends its stdout and stderr lines.
func (re *relayEnv) followLines(ctx context.Context, t *testing.T) (stdout, stderr <-chan string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, re.hubbleBin, "observe", "--follow", "--print-node-name", "--server", "unix://"+re.relay)
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	lines := func(r interface{ Read([]byte) (int, error) }) <-chan string {
		ch := make(chan string, 4096)
		wg.Go(func() {
			defer close(ch)
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				select {
				case ch <- sc.Text():
				default: // the test reads what it needs; the rest may go
				}
			}
		})
		return ch
	}
	stdout, stderr = lines(outPipe), lines(errPipe)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		wg.Wait()
		_ = cmd.Wait()
	})
	return stdout, stderr
}

// waitLine reads ch until a line contains want.
func waitLine(t *testing.T, ch <-chan string, limit time.Duration, what, want string) {
	t.Helper()
	timeout := time.After(limit)
	for {
		select {
		case line, ok := <-ch:
			if !ok {
				t.Fatalf("hubble exited before %s", what)
			}
			if strings.Contains(line, want) {
				return
			}
		case <-timeout:
			t.Fatalf("no %s (a line with %q) within %v", what, want, limit)
		}
	}
}

// testRelayMetrics scrapes the relay's /metrics while a follow stream
// receives flows from every node.
func testRelayMetrics(t *testing.T, re *relayEnv) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	re.followEveryNode(ctx, t)
	eventually(t, 10*time.Second, func() error {
		m, err := scrapeMetrics(ctx, re.cluster, "node1", relayMetricsAddress)
		if err != nil {
			return err
		}
		positive := func(v float64) bool { return v > 0 }
		three := func(v float64) bool { return v == 3 }
		zero := func(v float64) bool { return v == 0 }
		for _, c := range []struct {
			name   string
			labels []string
			want   func(float64) bool
		}{
			{"hubble_relay_pool_peer_connection_status", []string{"status", "READY"}, three},
			{"hubble_relay_pool_peer_connection_status", []string{"status", "TRANSIENT_FAILURE"}, zero},
			{"hubble_relay_pool_peer_connection_status", []string{"status", "NIL_CONNECTION"}, zero},
			{"fovea_relay_peers", nil, three},
			{"fovea_relay_peers_connected", nil, three},
			{"fovea_relay_get_flows_streams", nil, positive},
			{"fovea_relay_flows_forwarded_total", nil, positive},
			{"fovea_relay_peer_flows_received_total", []string{"peer", "default/node1"}, positive},
			{"fovea_relay_peer_flows_received_total", []string{"peer", "default/node2"}, positive},
			{"fovea_relay_peer_flows_received_total", []string{"peer", "default/node3"}, positive},
			{"fovea_relay_merge_forced_sends_total", []string{"reason", "buffer_full"}, func(v float64) bool { return v >= 0 }},
			{"process_cpu_seconds_total", nil, positive},
		} {
			v, ok := m.value(c.name, c.labels...)
			if !ok {
				return fmt.Errorf("no %s%v in /metrics", c.name, c.labels)
			}
			if !c.want(v) {
				return fmt.Errorf("%s%v = %v", c.name, c.labels, v)
			}
		}
		return nil
	})
}

func testRelayAgentRestart(t *testing.T, re *relayEnv) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stdout, stderr := re.followEveryNode(ctx, t)

	if err := re.agents["node3"].Stop(); err != nil {
		t.Logf("stop agent: %v", err) // SIGTERM ends it with a non-zero status
	}
	waitLine(t, stderr, 20*time.Second, "NODE_UNAVAILABLE for node3", "nodes are unavailable: default/node3")
	for _, n := range []string{"default/node1", "default/node2"} {
		waitLine(t, stdout, 20*time.Second, "flows from "+n+" after node3 went", "["+n+"]")
	}

	re.startAgent(t, "node3")
	waitLine(t, stdout, 30*time.Second, "flows from the restarted node3", "[default/node3]")
}

func testRelayMTLS(t *testing.T, re *relayEnv) {
	dir := t.TempDir()
	const relayName = "relay.fovea.test"
	serverCA, clientCA, otherCA := testca.New(t, "server CA"), testca.New(t, "client CA"), testca.New(t, "other CA")
	caFile := testca.WriteFile(t, dir, "ca.crt", serverCA.PEM)
	certFile, keyFile := serverCA.IssueFiles(t, dir, "relay", relayName)
	goodCert, goodKey := clientCA.IssueFiles(t, dir, "good", "hubble-cli")
	badCert, badKey := otherCA.IssueFiles(t, dir, "bad", "hubble-cli")
	_, _, err := demo.StartRelay(re.life, re.cluster, re.fovea, "relay-mtls",
		"--listen-address", ":4246", "--insecure=false",
		"--tls-cert-file", certFile, "--tls-key-file", keyFile,
		"--tls-client-ca-files", testca.WriteFile(t, dir, "client-ca.crt", clientCA.PEM))
	if err != nil {
		t.Fatal(err)
	}
	ns, err := re.cluster.NodeNetns("node1")
	if err != nil {
		t.Fatal(err)
	}
	status := func(cert, key string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := ns.Exec(ctx, re.hubbleBin, "status", "--server", "127.0.0.1:4246", "--timeout", "5s",
			"--tls", "--tls-ca-cert-files", caFile, "--tls-server-name", relayName,
			"--tls-client-cert-file", cert, "--tls-client-key-file", key)
		return string(out), err
	}
	eventually(t, 15*time.Second, func() error {
		out, err := status(goodCert, goodKey)
		if err != nil {
			return err
		}
		if !strings.Contains(out, "Connected Nodes: 3/3") {
			return fmt.Errorf("hubble status over mTLS:\n%s", out)
		}
		return nil
	})
	if out, err := status(badCert, badKey); err == nil {
		t.Fatalf("a client certificate from an untrusted CA was accepted:\n%s", out)
	}
}
