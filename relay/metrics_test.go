package relay

import (
	"context"
	"strings"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	relaypb "github.com/cilium/cilium/api/v1/relay"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics(t *testing.T) {
	a := newFakeAgent(t, "a", at(1), at(3))
	b := newFakeAgent(t, "b", at(2))
	// c answers every call with an error instead of flows.
	c := &fakeAgent{name: "c", impl: failingAgent{}}
	c.serve(t, "127.0.0.1:0")
	// No flow waits long enough for the drain timeout, however slow the
	// machine: the forced-send counters stay at 0.
	merge := testMerge
	merge.DrainTimeout = time.Hour
	r := newTestRelay(t, merge, a, b, c)
	// d cannot be dialed: it has no address.
	r.peers.changes <- PeerChange{Type: PeerAdded, Peer: Peer{Name: "d"}}
	waitState(t, r.pool, "d", relaypb.NodeState_NODE_ERROR, false)

	s, err := r.client.GetFlows(context.Background(), &observerpb.GetFlowsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(flowsOf(collect(t, s))); got != 3 {
		t.Fatalf("got %d flows, want 3", got)
	}
	const want = `
# HELP fovea_relay_flows_forwarded_total Flows (and lost-event notices) from nodes sent to GetFlows clients.
# TYPE fovea_relay_flows_forwarded_total counter
fovea_relay_flows_forwarded_total 3
# HELP fovea_relay_get_flows_streams GetFlows streams being served.
# TYPE fovea_relay_get_flows_streams gauge
fovea_relay_get_flows_streams 0
# HELP fovea_relay_merge_forced_sends_total Flows GetFlows sent before every node could deliver older ones, because the sort buffer was full or the flow waited the drain timeout.
# TYPE fovea_relay_merge_forced_sends_total counter
fovea_relay_merge_forced_sends_total{reason="buffer_full"} 0
fovea_relay_merge_forced_sends_total{reason="drain_timeout"} 0
# HELP fovea_relay_node_call_errors_total GetFlows calls to nodes that failed, by gRPC status code.
# TYPE fovea_relay_node_call_errors_total counter
fovea_relay_node_call_errors_total{code="Internal"} 1
# HELP fovea_relay_peer_flows_received_total Flows (and lost-event notices) the peer's GetFlows calls delivered since its connection was made.
# TYPE fovea_relay_peer_flows_received_total counter
fovea_relay_peer_flows_received_total{peer="a"} 2
fovea_relay_peer_flows_received_total{peer="b"} 1
fovea_relay_peer_flows_received_total{peer="c"} 0
fovea_relay_peer_flows_received_total{peer="d"} 0
# HELP fovea_relay_peers Peers the relay knows of.
# TYPE fovea_relay_peers gauge
fovea_relay_peers 4
# HELP fovea_relay_peers_connected Peers whose connection is ready.
# TYPE fovea_relay_peers_connected gauge
fovea_relay_peers_connected 3
# HELP hubble_relay_pool_peer_connection_status Peers by the state of their connection, as Hubble's relay reports them (NIL_CONNECTION: cannot be dialed).
# TYPE hubble_relay_pool_peer_connection_status gauge
hubble_relay_pool_peer_connection_status{status="CONNECTING"} 0
hubble_relay_pool_peer_connection_status{status="IDLE"} 0
hubble_relay_pool_peer_connection_status{status="NIL_CONNECTION"} 1
hubble_relay_pool_peer_connection_status{status="READY"} 3
hubble_relay_pool_peer_connection_status{status="SHUTDOWN"} 0
hubble_relay_pool_peer_connection_status{status="TRANSIENT_FAILURE"} 0
`
	if err := testutil.GatherAndCompare(r.reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

func TestMetricsCountOpenStreams(t *testing.T) {
	r := newTestRelay(t, testMerge, newFakeAgent(t, "a"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := r.client.GetFlows(ctx, &observerpb.GetFlowsRequest{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil { // the node status event
		t.Fatal(err)
	}
	gauge := func() float64 {
		mfs, err := r.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "fovea_relay_get_flows_streams" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no fovea_relay_get_flows_streams")
		return 0
	}
	if got := gauge(); got != 1 {
		t.Fatalf("streams = %v with one open", got)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for gauge() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stream gauge did not go back to 0")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
