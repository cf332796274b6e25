//go:build linux

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/foveanet/fovea/test/traffic"
)

const (
	retinaPrefix  = "foveart-"
	retinaCluster = "foveart"
	// retinaConfig counts the pods' series with remote context, for every
	// namespace but one no pod is in.
	retinaConfig = `retina:
  mode: advanced
  contextMode: remote
  namespaces: {exclude: [kube-system]}
`
)

// TestRetinaMetrics runs agents serving Retina's node and pod series in a
// cluster of its own, generates traffic between two pods of one node and
// reads the series back through a real Prometheus server: forward counts
// by direction with the cluster and instance labels, the refused
// connections' drops by the kernel's reason, DNS queries by name at the
// node and for the pod, and the kernel series each present.
func TestRetinaMetrics(t *testing.T) {
	config := filepath.Join(t.TempDir(), "metrics.yaml")
	writeMetricsConfig(t, config, retinaConfig)
	m := startMetricsCluster(t, retinaPrefix, "--cluster-name="+retinaCluster, "--retina-metrics=basic",
		"--metrics-config="+config, "--metrics-config-interval=200ms")
	ctx, life, c, hosts, prom := m.ctx, m.life, m.cluster, m.hosts, m.prom

	client, server := hosts[0], hosts[1]
	node := c.Topology.Nodes[0].Name
	for _, h := range []traffic.Host{client, server} {
		if p, _ := c.Topology.Pod(h.Name); p.Node != node {
			t.Fatalf("pod %s is on %s, not %s", h.Name, p.Node, node)
		}
	}
	clientPod, _ := c.Topology.Pod(client.Name)
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
			traffic.TCPShort, traffic.TCPRefused,
		} {
			if conn, err := gen(ctx, client, server, traffic.IPv4); err != nil {
				t.Fatalf("%s: %v", conn, err)
			}
		}
		if l, err := traffic.LookupDNS(ctx, client, server, traffic.IPv4, traffic.ProtoUDP, traffic.DemoAPIName, mdns.TypeA); err != nil {
			t.Fatalf("LookupDNS %s: %v", l, err)
		}
	}

	sel := fmt.Sprintf(`cluster=%q,instance=%q`, retinaCluster, node)
	for _, q := range []string{
		// The node's uplink carries at least the scrapes, both ways.
		fmt.Sprintf(`networkobservability_forward_count{%s,direction="ingress"} > 0`, sel),
		fmt.Sprintf(`networkobservability_forward_count{%s,direction="egress"} > 0`, sel),
		fmt.Sprintf(`networkobservability_forward_bytes{%s,direction="egress"} > 0`, sel),
		// Each refused SYN, dropped by the server pod's kernel as it
		// arrived: no socket.
		fmt.Sprintf(`networkobservability_drop_count{%s,direction="ingress",reason="NO_SOCKET"} >= %d`, sel, n),
		fmt.Sprintf(`networkobservability_dns_request_count{%s,query=%q,query_type="A"} >= %d`, sel, traffic.DemoAPIName, n),
		fmt.Sprintf(`networkobservability_dns_response_count{%s,query=%q,return_code="NOERROR"} >= %d`, sel, traffic.DemoAPIName, n),
		fmt.Sprintf(`networkobservability_tcp_state{%s,state="LISTEN"} > 0`, sel),
		// The node's namespace holds no UDP socket: the DNS server is a pod's.
		fmt.Sprintf(`networkobservability_udp_connection_stats{%s,statistic_name="ACTIVE"}`, sel),
		fmt.Sprintf(`networkobservability_tcp_connection_stats{%s} > 0`, sel),
		fmt.Sprintf(`networkobservability_ip_connection_stats{%s,statistic_name="InOctets"} > 0`, sel),
		fmt.Sprintf(`networkobservability_conntrack_total_connections{%s}`, sel),
		// The pod's own series: its connections leaving it, its
		// refused SYNs' drops at the server, its DNS queries.
		fmt.Sprintf(`sum(networkobservability_adv_forward_count{%s,direction="egress",source_pod=%q}) >= %d`, sel, clientPod.Name, 3*n),
		fmt.Sprintf(`sum(networkobservability_adv_tcpflags_count{%s,flag="SYN",source_pod=%q}) >= %d`, sel, clientPod.Name, 2*n),
		fmt.Sprintf(`sum(networkobservability_adv_drop_count{%s,direction="ingress",reason="NO_SOCKET",source_pod=%q}) >= %d`, sel, clientPod.Name, n),
		fmt.Sprintf(`sum(networkobservability_adv_dns_request_count{%s,query=%q,source_pod=%q}) >= %d`, sel, traffic.DemoAPIName, clientPod.Name, n),
		`fovea_retina_collector_success == 1`,
	} {
		prom.waitData(t, q, true)
	}
	// No collector failed on any node.
	prom.waitData(t, `fovea_retina_collector_success == 0`, false)
	// Every panel of the Retina dashboard shows this traffic.
	for _, q := range dashboardQueries(t, retinaDashboard) {
		t.Run("dashboard/"+q.panel, func(t *testing.T) { prom.waitData(t, q.expr, true) })
	}
}

const retinaDashboard = "../../helm/fovea/dashboards/retina.json"
