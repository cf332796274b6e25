//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/traffic"
)

// Prefixes of the overlay clusters, apart from the shared one and from
// each other.
const (
	flannelPrefix = "foveafl-"
	calicoPrefix  = "foveacv-"
)

// tunnelDev stands, in expected points, for the node's tunnel device of
// the packet's family: flannel.1 or flannel-v6.1, vxlan.calico or
// vxlan-v6.calico.
const tunnelDev = "tunnel device"

// overlayPoint is where an overlay node's agent saw one side of a
// connection, and whether those flows carried `tunnel`.
type overlayPoint struct {
	obsPoint
	tunnel bool
}

func (p overlayPoint) String() string { return fmt.Sprintf("%s tunnel=%v", p.obsPoint, p.tunnel) }

// wantOverlayPoints is where a connection from pod A on node1 to pod B on
// node2 is seen on overlay nodes, TCP, UDP and ICMP echo alike: the
// mapping docs/datapath.md documents under "Overlay nodes". A packet is
// seen leaving its pod, entering the tunnel device (before encapsulation)
// and leaving the uplink encapsulated, then arriving at the other node's
// uplink, leaving its tunnel device decapsulated and entering the pod. The
// uplink reports the encapsulated packet as its inner packet, and only its
// flows carry the outer headers in `tunnel`. Directions are relative to the
// local pod, as on routed nodes (wantObsPoints).
var wantOverlayPoints = []overlayPoint{
	{obsPoint{"node1", podVeth, aToB, flowpb.TraceObservationPoint_FROM_ENDPOINT, flowpb.TrafficDirection_EGRESS, replyFalse}, false},
	{obsPoint{"node1", tunnelDev, aToB, flowpb.TraceObservationPoint_TO_OVERLAY, flowpb.TrafficDirection_EGRESS, replyFalse}, false},
	{obsPoint{"node1", uplink, aToB, flowpb.TraceObservationPoint_TO_NETWORK, flowpb.TrafficDirection_EGRESS, replyFalse}, true},
	{obsPoint{"node1", uplink, bToA, flowpb.TraceObservationPoint_FROM_NETWORK, flowpb.TrafficDirection_EGRESS, replyTrue}, true},
	{obsPoint{"node1", tunnelDev, bToA, flowpb.TraceObservationPoint_FROM_OVERLAY, flowpb.TrafficDirection_EGRESS, replyTrue}, false},
	{obsPoint{"node1", podVeth, bToA, flowpb.TraceObservationPoint_TO_ENDPOINT, flowpb.TrafficDirection_EGRESS, replyTrue}, false},
	{obsPoint{"node2", uplink, aToB, flowpb.TraceObservationPoint_FROM_NETWORK, flowpb.TrafficDirection_INGRESS, replyFalse}, true},
	{obsPoint{"node2", tunnelDev, aToB, flowpb.TraceObservationPoint_FROM_OVERLAY, flowpb.TrafficDirection_INGRESS, replyFalse}, false},
	{obsPoint{"node2", podVeth, aToB, flowpb.TraceObservationPoint_TO_ENDPOINT, flowpb.TrafficDirection_INGRESS, replyFalse}, false},
	{obsPoint{"node2", podVeth, bToA, flowpb.TraceObservationPoint_FROM_ENDPOINT, flowpb.TrafficDirection_INGRESS, replyTrue}, false},
	{obsPoint{"node2", tunnelDev, bToA, flowpb.TraceObservationPoint_TO_OVERLAY, flowpb.TrafficDirection_INGRESS, replyTrue}, false},
	{obsPoint{"node2", uplink, bToA, flowpb.TraceObservationPoint_TO_NETWORK, flowpb.TrafficDirection_INGRESS, replyTrue}, true},
}

// overlayTraffic is what TestOverlay sends across the tunnels, each over
// both families: both layouts carry IPv6 (flannel-v6.1, vxlan-v6.calico).
var overlayTraffic = []struct {
	name string
	run  func(context.Context, traffic.Host, traffic.Host, traffic.Family) (traffic.Conn, error)
}{
	{"tcp", traffic.TCPShort},
	{"udp", traffic.UDP},
	{"icmp", func(ctx context.Context, src, dst traffic.Host, fam traffic.Family) (traffic.Conn, error) {
		return traffic.ICMP(ctx, src, dst, fam, 1)
	}},
}

// TestOverlay builds a cluster of each overlay layout and checks, with the
// hubble CLI against each node's agent, that a TCP connection, a UDP
// exchange and an ICMP echo from a pod on node1 to a pod on node2 show
// with both pods' names at exactly wantOverlayPoints, the uplink's flows
// with the tunnel they crossed, and that no flow shows the node addresses
// on the tunnel port as if the nodes were the endpoints; and that a tunnel
// packet the receiving node drops is reported as a drop of the pods' flow
// inside it (testOverlayTunnelDrop).
func TestOverlay(t *testing.T) {
	for _, layout := range []struct {
		layout cluster.Layout
		prefix string
	}{
		{cluster.LayoutFlannelVXLAN, flannelPrefix},
		{cluster.LayoutCalicoVXLAN, calicoPrefix},
	} {
		t.Run(string(layout.layout), func(t *testing.T) {
			start := time.Now()
			e := setupOwn(t, cluster.Config{Prefix: layout.prefix, Nodes: 2, PodsPerNode: 2, Layout: layout.layout})
			t.Logf("cluster and agents up in %v", time.Since(start).Round(time.Millisecond))
			for _, kind := range overlayTraffic {
				for _, fam := range []traffic.Family{traffic.IPv4, traffic.IPv6} {
					t.Run(fmt.Sprintf("%s/%s", kind.name, fam), func(t *testing.T) {
						testOverlayConn(t, e, fam, kind.run)
					})
				}
			}
			t.Run("tunnel drop", func(t *testing.T) { testOverlayTunnelDrop(t, e) })
			checkNoTunnelFlows(t, e, start)
		})
	}
}

func testOverlayConn(t *testing.T, e *env, fam traffic.Family, run func(context.Context, traffic.Host, traffic.Host, traffic.Family) (traffic.Conn, error)) {
	src, dst := e.hosts[0], e.hosts[2]
	a, _ := e.cluster.Topology.Pod(src.Name)
	b, _ := e.cluster.Topology.Pod(dst.Name)
	if a.Node != "node1" || b.Node != "node2" {
		t.Fatalf("pods on %s and %s, want node1 and node2", a.Node, b.Node)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, err := run(ctx, src, dst, fam)
	if err != nil {
		t.Fatal(err)
	}
	q := overlayQuery{e: e, conn: c, fam: fam, a: a, b: b}
	var got []overlayPoint
	var problems []string
	// Each interface's flows reach its agent's ring on their own: wait
	// for all of them before asking for exactly them.
	eventually(t, 20*time.Second, func() error {
		got, problems = q.points(t, "node1")
		got2, problems2 := q.points(t, "node2")
		got, problems = append(got, got2...), append(problems, problems2...)
		if missing, _ := diffSets(got, wantOverlayPoints); len(missing) > 0 {
			return fmt.Errorf("%s: missing:%s\nseen:%s", c, listSet(missing), listSet(got))
		}
		return nil
	})
	t.Logf("%s:%s", c, listSet(got))
	if _, extra := diffSets(got, wantOverlayPoints); len(extra) > 0 {
		t.Errorf("%s: unexpected:%s\nseen:%s", c, listSet(extra), listSet(got))
	}
	for _, p := range problems {
		t.Errorf("%s: %s", c, p)
	}
	// The agents select the tunnel device's flows by its name and
	// observation point, as for any interface.
	for _, f := range []struct {
		node string
		args []string
		want func(overlayPoint) bool
	}{
		{"node1", []string{"--type", "trace:to-overlay"}, func(p overlayPoint) bool {
			return p.point == flowpb.TraceObservationPoint_TO_OVERLAY
		}},
		{"node2", []string{"--type", "trace:from-overlay"}, func(p overlayPoint) bool {
			return p.point == flowpb.TraceObservationPoint_FROM_OVERLAY
		}},
		{"node2", []string{"--interface", q.tunnel(b.Node).Name}, func(p overlayPoint) bool {
			return p.iface == tunnelDev
		}},
	} {
		want := slices.DeleteFunc(slices.Clone(wantOverlayPoints), func(p overlayPoint) bool { return p.node != f.node || !f.want(p) })
		seen, _ := q.points(t, f.node, f.args...)
		if missing, extra := diffSets(seen, want); len(missing)+len(extra) > 0 {
			t.Errorf("%s: hubble observe %s: missing:%s\nunexpected:%s", f.node, strings.Join(f.args, " "), listSet(missing), listSet(extra))
		}
	}
}

// overlayQuery asks the agents for the flows of one connection.
type overlayQuery struct {
	e    *env
	conn traffic.Conn
	fam  traffic.Family
	// a and b are the client pod (node1) and the server pod (node2).
	a, b cluster.Pod
}

// tunnel returns node's tunnel device of the connection's family.
func (q overlayQuery) tunnel(node string) cluster.Tunnel {
	n, _ := q.e.cluster.Topology.Node(node)
	if q.fam == traffic.IPv6 {
		return n.Tunnels[1]
	}
	return n.Tunnels[0]
}

// nodeAddr returns node's underlay address of the connection's family.
func (q overlayQuery) nodeAddr(node string) netip.Addr {
	n, _ := q.e.cluster.Topology.Node(node)
	if q.fam == traffic.IPv6 {
		return n.IPv6
	}
	return n.IPv4
}

// points returns where node's agent saw the connection, selecting its
// flows with args on top of the connection's own, and what is wrong with
// those flows' pods and tunnels.
func (q overlayQuery) points(t *testing.T, node string, args ...string) ([]overlayPoint, []string) {
	t.Helper()
	// From a second before the connection, so that an earlier one that
	// happened to use the same client port is not taken for it.
	since := q.conn.Start.Add(-time.Second).Format(time.RFC3339Nano)
	args = append([]string{"--last", "100000", "--since", since}, args...)
	if q.conn.Src.Port != 0 {
		args = append(args, "--port", strconv.Itoa(int(q.conn.Src.Port)))
	} else {
		args = append(args, "--ip", q.conn.Src.IP.String())
	}
	flows := q.e.observeJSON(t, q.e.sockets[node], args...)
	requests, replies := connFlows(q.conn, flows)
	if q.conn.Src.Port == 0 {
		requests, replies = echoFlows(q.conn, flows)
	}
	local := map[string]cluster.Pod{q.a.Node: q.a, q.b.Node: q.b}[node]
	var points []overlayPoint
	var problems []string
	for packets, flows := range map[string][]*flowpb.Flow{aToB: requests, bToA: replies} {
		from, to := q.a, q.b
		if packets == bToA {
			from, to = q.b, q.a
		}
		for _, f := range flows {
			// A retransmission is the kernel's report of a segment
			// sent again, not a packet crossing an interface.
			if f.GetTraceObservationPoint() == flowpb.TraceObservationPoint_FROM_STACK {
				continue
			}
			p := overlayPoint{obsPoint{node: node, iface: f.GetInterface().GetName(), packets: packets,
				point: f.GetTraceObservationPoint(), dir: f.GetTrafficDirection(), isReply: flowIsReply(f)}, f.GetTunnel() != nil}
			switch p.iface {
			case local.HostVeth:
				p.iface = podVeth
			case q.tunnel(node).Name:
				p.iface = tunnelDev
			}
			if !slices.Contains(points, p) {
				points = append(points, p)
			}
			if err := checkPods(f, from, to); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", p, err))
			}
			if p.tunnel {
				if err := q.checkTunnel(f.GetTunnel(), from.Node, to.Node); err != nil {
					problems = append(problems, fmt.Sprintf("%s: %v", p, err))
				}
			}
		}
	}
	return points, problems
}

// echoFlows finds c's echo request and reply in flows, as checkICMP
// does: ICMP flows carry no echo identifier.
func echoFlows(c traffic.Conn, flows []*flowpb.Flow) (requests, replies []*flowpb.Flow) {
	for _, f := range flows {
		src, dst := f.GetIP().GetSource(), f.GetIP().GetDestination()
		switch {
		case src == c.Src.IP.String() && dst == c.Dst.IP.String() && strings.HasSuffix(f.GetSummary(), "EchoRequest"):
			requests = append(requests, f)
		case src == c.Dst.IP.String() && dst == c.Src.IP.String() && strings.HasSuffix(f.GetSummary(), "EchoReply"):
			replies = append(replies, f)
		}
	}
	return requests, replies
}

// checkPods wants the flow's ends named as the pods the inventory lists.
func checkPods(f *flowpb.Flow, from, to cluster.Pod) error {
	gotSrc := f.GetSource().GetNamespace() + "/" + f.GetSource().GetPodName()
	gotDst := f.GetDestination().GetNamespace() + "/" + f.GetDestination().GetPodName()
	if gotSrc != from.Key() || gotDst != to.Key() {
		return fmt.Errorf("pods %s -> %s, want %s -> %s", gotSrc, gotDst, from.Key(), to.Key())
	}
	return nil
}

// checkTunnel wants the outer headers of a packet VXLAN carried from node
// sender to node receiver: their underlay addresses, the tunnel's port and
// VNI, and the source port VXLAN chose.
func (q overlayQuery) checkTunnel(tun *flowpb.Tunnel, sender, receiver string) error {
	want := q.tunnel(sender)
	got := fmt.Sprintf("%s %s -> %s dport %d vni %d", tun.GetProtocol(), tun.GetIP().GetSource(), tun.GetIP().GetDestination(),
		tun.GetL4().GetUDP().GetDestinationPort(), tun.GetVni())
	if w := fmt.Sprintf("%s %s -> %s dport %d vni %d", flowpb.Tunnel_VXLAN, q.nodeAddr(sender), q.nodeAddr(receiver),
		want.Port, want.VNI); got != w {
		return fmt.Errorf("tunnel %s, want %s", got, w)
	}
	if tun.GetL4().GetUDP().GetSourcePort() == 0 {
		return fmt.Errorf("tunnel %s without its outer source port", got)
	}
	return nil
}

// checkNoTunnelFlows wants no flow since start, on any node, between node
// addresses on a VXLAN port: the encapsulated packets are reported as their
// inner packets only.
func checkNoTunnelFlows(t *testing.T, e *env, start time.Time) {
	t.Helper()
	since := start.Format(time.RFC3339Nano)
	nodeAddrs := map[string]bool{}
	for _, n := range e.cluster.Topology.Nodes {
		nodeAddrs[n.IPv4.String()], nodeAddrs[n.IPv6.String()] = true, true
	}
	for _, n := range e.cluster.Topology.Nodes {
		sock := e.sockets[n.Name]
		for _, port := range []string{"8472", "4789"} {
			if flows := e.observeJSON(t, sock, "--last", "100000", "--since", since, "--port", port); len(flows) > 0 {
				t.Errorf("%s: hubble observe --port %s: %d flows:%s", n.Name, port, len(flows), describe(flows))
			}
		}
		var tunnelled []*flowpb.Flow
		for _, f := range e.observeJSON(t, sock, "--last", "100000", "--since", since) {
			sp, dp := ports(f)
			if (nodeAddrs[f.GetIP().GetSource()] || nodeAddrs[f.GetIP().GetDestination()]) && isVXLANPort(sp, dp) {
				tunnelled = append(tunnelled, f)
			}
		}
		if len(tunnelled) > 0 {
			t.Errorf("%s: flows of node addresses on a VXLAN port:%s", n.Name, describe(tunnelled))
		}
	}
}

func isVXLANPort(ports ...uint16) bool {
	for _, p := range ports {
		if p == 8472 || p == 4789 {
			return true
		}
	}
	return false
}
