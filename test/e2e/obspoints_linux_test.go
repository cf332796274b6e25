//go:build linux

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/traffic"
)

// macvlanPrefix keeps the macvlan-uplink cluster apart from the shared one.
const macvlanPrefix = "foveamv-"

// Where a flow was seen: the uplink or the local pod's host veth. Any
// other interface is named as it is, and never expected.
const (
	uplink  = cluster.UnderlayInterface
	podVeth = "pod veth"
)

// Which way the packet went: from the client pod A to the server pod B, or
// back.
const (
	aToB = "A->B"
	bToA = "B->A"
)

// obsPoint is how one agent saw the packets of one side of a connection at
// one interface.
type obsPoint struct {
	node    string
	iface   string
	packets string
	point   flowpb.TraceObservationPoint
	dir     flowpb.TrafficDirection
	isReply isReply
}

func (p obsPoint) String() string {
	return fmt.Sprintf("%s %s %s %s %s is_reply=%s", p.node, p.iface, p.packets, p.point, p.dir, p.isReply)
}

// isReply is a flow's is_reply, which may be unset.
type isReply string

const (
	replyFalse isReply = "false"
	replyTrue  isReply = "true"
	replyUnset isReply = "unset"
)

func flowIsReply(f *flowpb.Flow) isReply {
	switch {
	case f.GetIsReply() == nil:
		return replyUnset
	case f.GetIsReply().GetValue():
		return replyTrue
	}
	return replyFalse
}

// wantObsPoints is where a TCP connection from pod A on node1 to pod B on
// node2 is seen, whatever the link type of the nodes' uplinks: the mapping
// docs/datapath.md documents under "Observation points". Direction is
// relative to the local pod, as Hubble's: A is the client (egress), B the
// server (ingress), and replies keep their request's direction.
var wantObsPoints = []obsPoint{
	{"node1", podVeth, aToB, flowpb.TraceObservationPoint_FROM_ENDPOINT, flowpb.TrafficDirection_EGRESS, replyFalse},
	{"node1", uplink, aToB, flowpb.TraceObservationPoint_TO_NETWORK, flowpb.TrafficDirection_EGRESS, replyFalse},
	{"node1", uplink, bToA, flowpb.TraceObservationPoint_FROM_NETWORK, flowpb.TrafficDirection_EGRESS, replyTrue},
	{"node1", podVeth, bToA, flowpb.TraceObservationPoint_TO_ENDPOINT, flowpb.TrafficDirection_EGRESS, replyTrue},
	{"node2", uplink, aToB, flowpb.TraceObservationPoint_FROM_NETWORK, flowpb.TrafficDirection_INGRESS, replyFalse},
	{"node2", podVeth, aToB, flowpb.TraceObservationPoint_TO_ENDPOINT, flowpb.TrafficDirection_INGRESS, replyFalse},
	{"node2", podVeth, bToA, flowpb.TraceObservationPoint_FROM_ENDPOINT, flowpb.TrafficDirection_INGRESS, replyTrue},
	{"node2", uplink, bToA, flowpb.TraceObservationPoint_TO_NETWORK, flowpb.TrafficDirection_INGRESS, replyTrue},
}

// TestObservationPoints makes one TCP connection from a pod on node1 to a
// pod on node2 and checks, with the hubble CLI against each node's agent,
// that its flows show exactly wantObsPoints, and that the CLI's
// observation-point and direction filters select the matching ones. Nodes
// whose uplink is a veth (kind nodes) must not mistake it for a pod's.
func TestObservationPoints(t *testing.T) {
	t.Run("veth", func(t *testing.T) { testObservationPoints(t, setup(t)) })
	t.Run("macvlan", func(t *testing.T) { testObservationPoints(t, setupMacvlan(t)) })
}

// setupMacvlan builds a cluster of its own whose nodes' eth0 is a macvlan,
// removed when t ends.
func setupMacvlan(t *testing.T) *env {
	t.Helper()
	return setupOwn(t, cluster.Config{Prefix: macvlanPrefix, Nodes: 2, PodsPerNode: 2, Uplink: cluster.UplinkMacvlan})
}

func testObservationPoints(t *testing.T, e *env) {
	t.Logf("uplink: %s", e.cluster.Topology.Uplink)
	src, dst := e.hosts[0], e.hosts[2]
	a, _ := e.cluster.Topology.Pod(src.Name)
	b, _ := e.cluster.Topology.Pod(dst.Name)
	if a.Node != "node1" || b.Node != "node2" {
		t.Fatalf("pods on %s and %s, want node1 and node2", a.Node, b.Node)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, err := traffic.TCPShort(ctx, src, dst, traffic.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	q := connQuery{e: e, conn: c, local: map[string]cluster.Pod{a.Node: a, b.Node: b}}

	// Each interface's flows reach its agent's ring on their own: wait
	// for all of them before asking for exactly them.
	var got []obsPoint
	eventually(t, 20*time.Second, func() error {
		got = q.points(t, "node1")
		got = append(got, q.points(t, "node2")...)
		if missing, extra := diffSets(got, wantObsPoints); len(missing) > 0 {
			return fmt.Errorf("%s: missing:%s\nunexpected:%s\nseen:%s", c, listSet(missing), listSet(extra), listSet(got))
		}
		return nil
	})
	if _, extra := diffSets(got, wantObsPoints); len(extra) > 0 {
		t.Fatalf("%s: unexpected:%s\nseen:%s", c, listSet(extra), listSet(got))
	}

	// The filters run in the agent: each must select exactly the
	// expected points it describes. All of node1's are egress and all of
	// node2's ingress, so the other direction selects none.
	for _, f := range []struct {
		node string
		args []string
		want func(obsPoint) bool
	}{
		{"node2", []string{"--type", "trace:to-endpoint", "--traffic-direction", "ingress"}, func(p obsPoint) bool {
			return p.point == flowpb.TraceObservationPoint_TO_ENDPOINT && p.dir == flowpb.TrafficDirection_INGRESS
		}},
		{"node1", []string{"--type", "trace:to-network", "--traffic-direction", "egress"}, func(p obsPoint) bool {
			return p.point == flowpb.TraceObservationPoint_TO_NETWORK && p.dir == flowpb.TrafficDirection_EGRESS
		}},
		{"node1", []string{"--traffic-direction", "ingress"}, func(p obsPoint) bool {
			return p.dir == flowpb.TrafficDirection_INGRESS
		}},
		{"node2", []string{"--traffic-direction", "egress"}, func(p obsPoint) bool {
			return p.dir == flowpb.TrafficDirection_EGRESS
		}},
		{"node2", []string{"--interface", uplink, "--reply"}, func(p obsPoint) bool {
			return p.iface == uplink && p.isReply == replyTrue
		}},
	} {
		want := slices.DeleteFunc(slices.Clone(wantObsPoints), func(p obsPoint) bool { return p.node != f.node || !f.want(p) })
		seen := q.points(t, f.node, f.args...)
		if missing, extra := diffSets(seen, want); len(missing)+len(extra) > 0 {
			t.Errorf("%s: hubble observe %s: missing:%s\nunexpected:%s", f.node, strings.Join(f.args, " "), listSet(missing), listSet(extra))
		}
	}
}

// connQuery asks the agents for the flows of one connection.
type connQuery struct {
	e    *env
	conn traffic.Conn
	// local is the connection's pod on each node.
	local map[string]cluster.Pod
}

// points returns where node's agent saw the connection, selecting its
// flows with args on top of the connection's own client port and time.
func (q connQuery) points(t *testing.T, node string, args ...string) []obsPoint {
	t.Helper()
	// From a second before the connection, so that an earlier one that
	// happened to use the same client port is not taken for it.
	since := q.conn.Start.Add(-time.Second).Format(time.RFC3339Nano)
	args = append([]string{"--last", "100000", "--since", since, "--port", strconv.Itoa(int(q.conn.Src.Port))}, args...)
	requests, replies := connFlows(q.conn, q.e.observeJSON(t, q.e.sockets[node], args...))
	var points []obsPoint
	for packets, flows := range map[string][]*flowpb.Flow{aToB: requests, bToA: replies} {
		for _, f := range flows {
			// A retransmission is the kernel's report of a segment
			// sent again, not a packet crossing an interface; a busy
			// box may have one.
			if f.GetTraceObservationPoint() == flowpb.TraceObservationPoint_FROM_STACK {
				continue
			}
			p := obsPoint{node: node, iface: f.GetInterface().GetName(), packets: packets,
				point: f.GetTraceObservationPoint(), dir: f.GetTrafficDirection(),
				isReply: flowIsReply(f)}
			if p.iface == q.local[node].HostVeth {
				p.iface = podVeth
			}
			if !slices.Contains(points, p) {
				points = append(points, p)
			}
		}
	}
	return points
}
