//go:build linux

package e2e

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/foveanet/fovea/agent/inventory"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/traffic"
)

const (
	boundsPrefix = "foveamtl-"
	boundsLimit  = 30
	boundsTTL    = "4s"
)

// TestHubbleMetricsSeriesBounds: a metric labelled by destination address
// holds at most its series limit under address churn, counting what the
// limit refused, and a deleted pod's series leave Prometheus once they have
// seen no flow for the series TTL.
func TestHubbleMetricsSeriesBounds(t *testing.T) {
	m := startMetricsCluster(t, boundsPrefix,
		"--metrics=flow:sourceContext=pod;destinationContext=pod|ip",
		"--metrics-series-ttl="+boundsTTL, fmt.Sprintf("--metrics-series-limit=%d", boundsLimit))
	client, server := m.hosts[0], m.hosts[1]
	const processed = "hubble_flows_processed_total"

	// Churn: datagrams to 3 × the limit of addresses outside the cluster.
	for i := range 3 * boundsLimit {
		sendToWorld(t, client, netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 0, byte(i + 1)}), metWorldPort))
	}
	m.prom.waitData(t, fmt.Sprintf(`sum(fovea_metrics_series_dropped_total{metric=%q}) > 0`, processed), true)
	m.prom.waitData(t, fmt.Sprintf(`max(fovea_metrics_series{metric=%q}) > %d`, processed, boundsLimit), false)
	m.prom.waitData(t, fmt.Sprintf(`count(%s) > %d`, processed, len(m.cluster.Topology.Nodes)*boundsLimit), false)
	// The addresses' series expire a TTL after their last datagram, which
	// frees the limit's room.
	m.prom.waitData(t, fmt.Sprintf(`%s{destination=~"198[.]18[.].*"}`, processed), false)
	m.prom.waitData(t, fmt.Sprintf(`sum(fovea_metrics_series_expired_total{metric=%q}) > 0`, processed), true)

	// The client pod talks to the server, then is deleted: once the TTL
	// has passed without its flows, its series are gone from the agent and
	// from Prometheus.
	if _, err := traffic.TCPShort(m.ctx, client, server, traffic.IPv4); err != nil {
		t.Fatal(err)
	}
	m.prom.waitData(t, fmt.Sprintf(`%s{source=%q,destination=%q}`, processed, client.Name, server.Name), true)
	inv := demo.Inventory(m.cluster.Topology)
	inv.Pods = slices.DeleteFunc(inv.Pods, func(p inventory.Pod) bool { return p.Namespace+"/"+p.Name == client.Name })
	if err := demo.WriteInventory(m.inventory, inv); err != nil {
		t.Fatal(err)
	}
	m.prom.waitData(t, fmt.Sprintf(`%s{source=%q}`, processed, client.Name), false)
	m.prom.waitData(t, fmt.Sprintf(`%s{destination=%q}`, processed, client.Name), false)
}
