//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/traffic"
)

const (
	retinaTCPPrefix  = "foveart2-"
	retinaTCPCluster = "foveart2"
	// apiServerDelay holds every SYN-ACK of the test API server's port
	// apiServerPort: its handshakes take at least this long.
	apiServerDelay = 2 * time.Millisecond
	// apiServerPort answers late; apiServerBlackhole never answers.
	apiServerPort, apiServerBlackhole = 6443, 6444
	apiServerQueue                    = 7
)

// apiServerAddr is the test API server's, on the fabric: outside every
// node, reached through their uplinks.
var apiServerAddr = netip.MustParseAddr("198.51.100.10")

// TestRetinaAPIServerAndRetransmissions runs agents serving Retina's
// advanced series in a cluster of its own and reads through a real
// Prometheus server: the handshakes of a node's connections to an "API
// server" on the fabric whose SYN-ACKs an NFQUEUE holds for 2 ms, in
// Retina's buckets; the SYNs it never answers on another port as no
// response; and the retransmissions under random loss of a pod selected
// by Retina's annotation, and nothing of a pod without it.
func TestRetinaAPIServerAndRetransmissions(t *testing.T) {
	config := filepath.Join(t.TempDir(), "metrics.yaml")
	// The pods the advanced series count are those Retina's annotation
	// selects: the client's, below.
	writeMetricsConfig(t, config, "retina: {mode: advanced, annotations: true}\n")
	m := startMetricsCluster(t, retinaTCPPrefix, "--cluster-name="+retinaTCPCluster, "--retina-metrics=basic",
		"--metrics-config="+config, "--metrics-config-interval=200ms", "--apiserver-addresses="+apiServerAddr.String())
	ctx, life, c, hosts, prom := m.ctx, m.life, m.cluster, m.hosts, m.prom
	node := c.Topology.Nodes[0].Name
	sel := fmt.Sprintf(`cluster=%q,instance=%q`, retinaTCPCluster, node)

	startAPIServer(t, life, c)
	nodeNS, err := c.NodeNetns(node)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	for range n {
		if err := dialNode(nodeNS, netip.AddrPortFrom(apiServerAddr, apiServerPort), 5*time.Second); err != nil {
			t.Fatalf("connect to the API server: %v", err)
		}
	}
	// The kernel retransmits the unanswered SYN after a second.
	if err := dialNode(nodeNS, netip.AddrPortFrom(apiServerAddr, apiServerBlackhole), 2500*time.Millisecond); err == nil {
		t.Fatal("the blackholed port answered")
	}

	client, server := hosts[0], hosts[1]
	clientPod, _ := c.Topology.Pod(client.Name)
	serverPod, _ := c.Topology.Pod(server.Name)
	serverNS, err := c.PodNetns(server.Name)
	if err != nil {
		t.Fatal(err)
	}
	inv := demo.Inventory(c.Topology)
	for i, p := range inv.Pods {
		if p.Namespace == clientPod.Namespace && p.Name == clientPod.Name {
			inv.Pods[i].Annotations = map[string]string{endpoints.ObserveAnnotation: endpoints.ObserveValue}
		}
	}
	if err := demo.WriteInventory(m.inventory, inv); err != nil {
		t.Fatal(err)
	}
	// Every agent has loaded the annotated inventory.
	prom.waitData(t, `min(fovea_inventory_reloads_total{result="success"}) >= 2`, true)
	// A third of what reaches the server is lost: the client retransmits.
	if out, err := serverNS.Exec(ctx, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", fmt.Sprint(traffic.TCPPort),
		"-m", "statistic", "--mode", "random", "--probability", "0.33", "-j", "DROP"); err != nil {
		t.Fatalf("iptables: %v: %s", err, out)
	}
	for range 10 {
		// Loss may fail an exchange; the retransmissions are what count.
		_, _ = traffic.TCPShort(ctx, client, server, traffic.IPv4)
	}

	hist := func(name, le string) string {
		return fmt.Sprintf(`networkobservability_adv_node_apiserver_%s_bucket{%s,le=%q}`, name, sel, le)
	}
	for _, q := range []string{
		fmt.Sprintf(`networkobservability_adv_node_apiserver_tcp_handshake_latency_count{%s} >= %d`, sel, n),
		fmt.Sprintf(`networkobservability_adv_node_apiserver_latency_count{%s} >= %d`, sel, n),
		// None faster than the queue's hold, some within Retina's
		// buckets above it.
		hist("tcp_handshake_latency", "1.5") + " == 0",
		hist("latency", "1.5") + " == 0",
		fmt.Sprintf(`%s - ignoring(le) %s >= 1`, hist("tcp_handshake_latency", "4.5"), hist("tcp_handshake_latency", "1.5")),
		fmt.Sprintf(`networkobservability_adv_node_apiserver_no_response{%s,no_response="no_response"} >= 1`, sel),
		fmt.Sprintf(`sum(networkobservability_adv_tcpretrans_count{%s,source_pod=%q}) > 0`, sel, clientPod.Name),
		fmt.Sprintf(`sum(networkobservability_adv_forward_count{%s,direction="egress",source_pod=%q}) > 0`, sel, clientPod.Name),
	} {
		prom.waitData(t, q, true)
	}
	// The dashboard's API-server panels show this node's handshakes and
	// unanswered SYNs.
	for _, q := range dashboardQueries(t, retinaDashboard) {
		if strings.HasPrefix(q.panel, "API server") {
			prom.waitData(t, q.expr+" > 0", true)
		}
	}
	// The server carries no annotation: what it sends is not counted.
	prom.waitData(t, fmt.Sprintf(`networkobservability_adv_forward_count{direction="egress",source_pod=%q}`, serverPod.Name), false)
	for _, le := range []string{"1.5", "2", "2.5", "3", "4.5", "+Inf"} {
		v, err := prom.query(ctx, hist("tcp_handshake_latency", le))
		t.Logf("handshakes le=%s: %v %v", le, v, err)
	}

	// `hubble observe` shows each handshake's time on its SYN-ACK.
	hubble := &env{hubbleBin: os.Getenv("HUBBLE_BIN")}
	answers := hubble.observeJSON(t, m.sockets[0], "--from-ip", apiServerAddr.String(), "--tcp-flags", "SYN,ACK",
		"--type", "trace:from-network")
	if len(answers) < n {
		t.Fatalf("%d SYN-ACKs from the API server, want %d:\n%s", len(answers), n, describe(answers))
	}
	for _, f := range answers {
		_, took, ok := strings.Cut(f.GetSummary(), "; handshake ")
		d, err := time.ParseDuration(took)
		if !ok || err != nil || d < apiServerDelay {
			t.Errorf("SYN-ACK summary %q: want a handshake of at least %v", f.GetSummary(), apiServerDelay)
		}
	}
}

// startAPIServer serves the test API server in the fabric namespace on
// apiServerAddr: apiServerPort accepts with its SYN-ACKs held by an
// NFQUEUE, apiServerBlackhole's SYNs are dropped.
func startAPIServer(t *testing.T, ctx context.Context, c *cluster.Cluster) {
	t.Helper()
	fabric := c.Fabric()
	if out, err := fabric.Exec(ctx, "ip", "addr", "add", apiServerAddr.String()+"/32", "dev", "lo"); err != nil {
		t.Fatalf("add the API server's address: %v: %s", err, out)
	}
	var ln net.Listener
	err := fabric.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", netip.AddrPortFrom(apiServerAddr, apiServerPort).String())
		return err
	})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	context.AfterFunc(ctx, func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	if _, err := startDelayQueue(ctx, fabric, apiServerQueue, apiServerDelay); err != nil {
		t.Fatal(err)
	}
	for _, rule := range [][]string{
		{"-A", "OUTPUT", "-p", "tcp", "-s", apiServerAddr.String(), "--sport", fmt.Sprint(apiServerPort),
			"--tcp-flags", "SYN,ACK", "SYN,ACK", "-j", "NFQUEUE", "--queue-num", fmt.Sprint(apiServerQueue)},
		{"-A", "INPUT", "-p", "tcp", "-d", apiServerAddr.String(), "--dport", fmt.Sprint(apiServerBlackhole), "-j", "DROP"},
	} {
		if out, err := fabric.Exec(ctx, "iptables", rule...); err != nil {
			t.Fatalf("iptables %v: %v: %s", rule, err, out)
		}
	}
}

// dialNode connects from ns to addr and closes the connection.
func dialNode(ns *cluster.Netns, addr netip.AddrPort, timeout time.Duration) error {
	return ns.Do(func() error {
		conn, err := net.DialTimeout("tcp", addr.String(), timeout)
		if err != nil {
			return err
		}
		return conn.Close()
	})
}
