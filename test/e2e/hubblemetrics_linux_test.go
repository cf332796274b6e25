//go:build linux

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/traffic"
)

const (
	metPrefix      = "foveamet-"
	metMetricsPort = 9965
	// metConfig enables every handler, with the pod labels the assertions
	// select this test's traffic by (the scrapes cross the nodes too); the
	// filter keeps nothing out of what the test counts, but makes the
	// agents decode and apply one.
	metConfig = `metrics:
- name: flow
  contextOptions: [{name: sourceContext, values: [pod]}, {name: destinationContext, values: [pod]}]
- name: tcp
  contextOptions: [{name: sourceContext, values: [pod]}, {name: destinationContext, values: [pod]}]
- name: dns
  contextOptions: [{name: query}, {name: sourceContext, values: [pod]}]
- name: drop
  contextOptions: [{name: sourceContext, values: [pod]}]
- name: port-distribution
  contextOptions: [{name: destinationContext, values: [pod]}]
- name: icmp
  contextOptions: [{name: sourceContext, values: [pod]}, {name: destinationContext, values: [pod]}]
- name: flows-to-world
  contextOptions: [{name: port}, {name: sourceContext, values: [pod]}]
  includeFilters: [{protocol: [udp]}]
`
	// metWorldPort is where pods send datagrams outside the cluster.
	metWorldPort = 9
)

// TestHubbleMetrics runs agents with every Hubble metrics handler, from a
// --metrics-config file, in a cluster of its own, generates traffic
// between two pods of one node (so that one agent sees each packet at two
// observation points, leaving one pod and entering the other) and reads
// the counts back through a real Prometheus server's query API: each
// series moves by what the traffic makes it, and every query of the Helm
// chart's Grafana dashboard returns data. Then the file changes under the
// running agents: a handler removed leaves Prometheus, a broken file keeps
// the others counting and is counted.
func TestHubbleMetrics(t *testing.T) {
	config := filepath.Join(t.TempDir(), "metrics.yaml")
	writeMetricsConfig(t, config, metConfig)
	m := startMetricsCluster(t, metPrefix, "--metrics-config="+config, "--metrics-config-interval=200ms")
	ctx, life, c, hosts, prom := m.ctx, m.life, m.cluster, m.hosts, m.prom

	// Pods 0 and 1 share the first node: its agent sees every packet
	// between them leaving one (from-endpoint) and entering the other
	// (to-endpoint).
	client, server := hosts[0], hosts[1]
	if p0, _ := c.Topology.Pod(client.Name); p0.Node != c.Topology.Nodes[0].Name {
		t.Fatalf("pod %s is on %s, not %s", client.Name, p0.Node, c.Topology.Nodes[0].Name)
	}
	if p1, _ := c.Topology.Pod(server.Name); p1.Node != c.Topology.Nodes[0].Name {
		t.Fatalf("pod %s is on %s, not %s", server.Name, p1.Node, c.Topology.Nodes[0].Name)
	}
	zone, err := traffic.DemoZone(server)
	if err != nil {
		t.Fatal(err)
	}
	dnsServer, err := traffic.ServeDNS(life, server, zone, nil)
	if err != nil {
		t.Fatalf("ServeDNS: %v", err)
	}
	defer dnsServer.Close()

	const n = 5
	for range n {
		for _, gen := range []func(context.Context, traffic.Host, traffic.Host, traffic.Family) (traffic.Conn, error){
			traffic.TCPShort, traffic.TCPRefused, traffic.UDP,
			func(ctx context.Context, s, d traffic.Host, f traffic.Family) (traffic.Conn, error) {
				return traffic.ICMP(ctx, s, d, f, 1)
			},
		} {
			if conn, err := gen(ctx, client, server, traffic.IPv4); err != nil {
				t.Fatalf("%s: %v", conn, err)
			}
		}
		for _, name := range []string{traffic.DemoAPIName, "nope.demo.example."} {
			if l, err := traffic.LookupDNS(ctx, client, server, traffic.IPv4, traffic.ProtoUDP, name, mdns.TypeA); err != nil {
				t.Fatalf("LookupDNS %s: %v", l, err)
			}
		}
		sendToWorld(t, client, netip.AddrPortFrom(cluster.GatewayV4, metWorldPort))
	}

	src, dst := client.Name, server.Name
	for _, w := range []struct {
		query string
		want  float64
	}{
		// Every connection's SYN and SYN-ACK, at both ends.
		{fmt.Sprintf(`sum(hubble_tcp_flags_total{flag="SYN",family="IPv4",source=%q,destination=%q})`, src, dst), 2 * 2 * n},
		{fmt.Sprintf(`sum(hubble_tcp_flags_total{flag="SYN-ACK",family="IPv4",source=%q,destination=%q})`, dst, src), 2 * n},
		// The refused connections' resets.
		{fmt.Sprintf(`sum(hubble_tcp_flags_total{flag="RST",family="IPv4",source=%q,destination=%q})`, dst, src), 2 * n},
		// The refused SYN is dropped by the server pod's kernel: no socket.
		{fmt.Sprintf(`sum(hubble_drop_total{reason="SOCKET_LOOKUP_FAILED",protocol="TCP",source=%q})`, src), n},
		// Requests only, by destination port.
		{fmt.Sprintf(`sum(hubble_port_distribution_total{protocol="UDP",port="%d",destination=%q})`, traffic.UDPPort, dst), 2 * n},
		{fmt.Sprintf(`sum(hubble_port_distribution_total{protocol="ICMPv4",port="0",destination=%q})`, dst), 2 * n},
		{fmt.Sprintf(`sum(hubble_icmp_total{family="IPv4",type="EchoRequest",source=%q,destination=%q})`, src, dst), 2 * n},
		// The client's kernel also drops each reply its raw socket read
		// (no ping socket: NO_SOCKET), and ICMP is counted whatever the
		// verdict, as Hubble counts it.
		{fmt.Sprintf(`sum(hubble_icmp_total{family="IPv4",type="EchoReply",source=%q,destination=%q})`, dst, src), 3 * n},
		// One L7 flow per DNS message, whatever the points it crossed.
		{fmt.Sprintf(`sum(hubble_dns_queries_total{rcode="",qtypes="A",ips_returned="0",query=%q,source=%q})`, traffic.DemoAPIName, src), n},
		{fmt.Sprintf(`sum(hubble_dns_responses_total{rcode="No Error",qtypes="A",ips_returned="1",query=%q,source=%q})`, traffic.DemoAPIName, dst), n},
		{fmt.Sprintf(`sum(hubble_dns_responses_total{rcode="Non-Existent Domain",qtypes="A",ips_returned="0",query="nope.demo.example.",source=%q})`, dst), n},
		{fmt.Sprintf(`sum(hubble_dns_response_types_total{type="A",qtypes="A",query=%q,source=%q})`, traffic.DemoAPIName, dst), n},
		// Datagrams to an address outside the cluster, leaving the pod and
		// the node.
		{fmt.Sprintf(`sum(hubble_flows_to_world_total{protocol="UDP",verdict="FORWARDED",port="%d",source=%q})`, metWorldPort, src), 2 * n},
		// Nothing was lost or refused on the way.
		{`sum(hubble_lost_events_total)`, 0},
		{`sum(fovea_metrics_flows_dropped_total)`, 0},
		{`sum(fovea_metrics_series_dropped_total)`, 0},
	} {
		prom.waitFor(t, w.query, w.want)
	}
	// The flow handler counts every kind of flow the traffic made.
	for _, q := range []string{
		fmt.Sprintf(`sum(hubble_flows_processed_total{protocol="TCP",type="Trace",subtype="from-endpoint",verdict="FORWARDED",source=%q,destination=%q}) >= %d`, src, dst, 2*n),
		fmt.Sprintf(`sum(hubble_flows_processed_total{protocol="TCP",type="Trace",subtype="to-endpoint",verdict="FORWARDED",source=%q,destination=%q}) >= %d`, src, dst, 2*n),
		fmt.Sprintf(`sum(hubble_flows_processed_total{protocol="TCP",type="Drop",verdict="DROPPED",source=%q,destination=%q}) == %d`, src, dst, n),
		fmt.Sprintf(`sum(hubble_flows_processed_total{protocol="DNS",type="L7",subtype="DNS",verdict="FORWARDED",source=%q,destination=%q}) == %d`, src, dst, 2*n),
	} {
		eventually(t, 30*time.Second, func() error {
			values, err := prom.query(ctx, q)
			if err != nil {
				return err
			}
			if len(values) != 1 {
				return fmt.Errorf("%s: no data", q)
			}
			return nil
		})
	}

	// Every panel of the dashboard shows this traffic.
	for _, q := range dashboardQueries(t, hubbleDashboard) {
		t.Run("dashboard/"+q.panel, func(t *testing.T) { prom.waitData(t, q.expr, true) })
	}
	if t.Failed() {
		t.FailNow()
	}

	// Live reload: the icmp handler removed leaves Prometheus (a series
	// missing from a scrape is marked stale at once), the others stay.
	nodes := float64(len(c.Topology.Nodes))
	writeMetricsConfig(t, config, withoutHandler(t, metConfig, "icmp"))
	prom.waitFor(t, `sum(fovea_metrics_config_loads_total)`, 2*nodes)
	prom.waitData(t, `hubble_icmp_total`, false)
	prom.waitData(t, `fovea_metrics_series{metric="hubble_icmp_total"}`, false)
	prom.waitData(t, `hubble_tcp_flags_total`, true)
	// A broken file: refused by each agent once, the handlers counting on.
	writeMetricsConfig(t, config, metConfig+"- name: kafka\n")
	prom.waitFor(t, `sum(fovea_metrics_config_errors_total)`, nodes)
	prom.waitFor(t, `max(fovea_metrics_config_last_reload_successful)`, 0)
	syns := fmt.Sprintf(`sum(hubble_tcp_flags_total{flag="SYN",source=%q,destination=%q})`, src, dst)
	before, err := prom.query(ctx, syns)
	if err != nil || len(before) != 1 {
		t.Fatalf("%s = %v, %v", syns, before, err)
	}
	if conn, err := traffic.TCPShort(ctx, client, server, traffic.IPv4); err != nil {
		t.Fatalf("%s: %v", conn, err)
	}
	prom.waitFor(t, syns, before[0]+2)
	prom.waitData(t, `hubble_icmp_total`, false)
}

// writeMetricsConfig writes a --metrics-config file as a ConfigMap update
// does: the new file renamed over the old.
func writeMetricsConfig(t *testing.T, path, data string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// withoutHandler is config, a list of handlers each starting "- name: ",
// without the one named handler.
func withoutHandler(t *testing.T, config, handler string) string {
	t.Helper()
	start := strings.Index(config, "- name: "+handler+"\n")
	if start < 0 {
		t.Fatalf("no handler %s in the config", handler)
	}
	end := strings.Index(config[start+1:], "- name: ")
	if end < 0 {
		return config[:start]
	}
	return config[:start] + config[start+1+end:]
}

// metricsCluster is a cluster of its own with agents counting Hubble
// metrics, scraped by a real Prometheus server.
type metricsCluster struct {
	ctx       context.Context // the test's deadline
	life      context.Context // ends with the test: agents, servers
	cluster   *cluster.Cluster
	hosts     []traffic.Host
	inventory string
	prom      *promServer
	// sockets are the agents' Hubble sockets, in node order.
	sockets []string
}

// startMetricsCluster builds a 2-node cluster named by prefix, runs agents
// with agentArgs and traffic servers on every pod, and a Prometheus server
// scraping the agents, and waits until it scrapes both.
func startMetricsCluster(t *testing.T, prefix string, agentArgs ...string) *metricsCluster {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: builds network namespaces and loads eBPF programs")
	}
	fovea := os.Getenv("FOVEA_BIN")
	if fovea == "" {
		t.Fatal("FOVEA_BIN is not set: run the end-to-end tests with `make e2e`")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := cluster.Cleanup(ctx, prefix, log); err != nil {
		t.Fatalf("clean up an earlier run: %v", err)
	}
	stateDir := t.TempDir()
	c, err := cluster.Build(ctx, cluster.Config{Prefix: prefix, Nodes: 2, PodsPerNode: 2, StateDir: stateDir, Logger: log})
	if err != nil {
		t.Fatalf("build cluster: %v", err)
	}
	life, stop := context.WithCancel(ctx)
	t.Cleanup(func() {
		stop()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Errorf("close cluster: %v", err)
		}
	})
	inv := filepath.Join(stateDir, "inventory.yaml")
	if err := demo.WriteInventory(inv, demo.Inventory(c.Topology)); err != nil {
		t.Fatal(err)
	}
	sockets, err := demo.StartAgents(life, c, fovea, 65535, demo.WithInventory(inv),
		demo.WithMetricsAddress(fmt.Sprintf(":%d", metMetricsPort)), demo.WithAgentArgs(agentArgs...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range c.Topology.Nodes {
				data, _ := os.ReadFile(filepath.Join(c.NodeStateDir(n.Name), "agent.stderr.log"))
				t.Logf("=== %s agent.stderr.log\n%s", n.Name, data)
			}
		}
	})
	hosts := c.Hosts()
	for _, h := range hosts {
		if _, err := traffic.Serve(life, h, log); err != nil {
			t.Fatalf("serve on %s: %v", h.Name, err)
		}
	}
	prom := startPrometheus(t, life, c, stateDir, metMetricsPort)
	prom.waitFor(t, `sum(up{job="fovea"})`, float64(len(c.Topology.Nodes)))
	return &metricsCluster{ctx: ctx, life: life, cluster: c, hosts: hosts, inventory: inv, prom: prom, sockets: sockets}
}

// sendToWorld sends one UDP datagram from h to addr.
func sendToWorld(t *testing.T, h traffic.Host, addr netip.AddrPort) {
	t.Helper()
	err := h.Netns.Do(func() error {
		c, err := net.Dial("udp", addr.String())
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("x"))
		return err
	})
	if err != nil {
		t.Fatalf("send from %s to %s: %v", h.Name, addr, err)
	}
}
