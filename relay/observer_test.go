package relay

import (
	"context"
	"slices"
	"testing"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	relaypb "github.com/cilium/cilium/api/v1/relay"
)

func TestServerStatusAggregates(t *testing.T) {
	a := newFakeAgent(t, "a", at(1), at(2))
	bb := newFakeAgent(t, "bb", at(3))
	c := newFakeAgent(t, "c")
	r := newTestRelay(t, testMerge, a, bb, c)
	c.kill()
	waitState(t, r.pool, "c", relaypb.NodeState_NODE_UNAVAILABLE, false)

	st, err := r.client.ServerStatus(context.Background(), &observerpb.ServerStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetNumFlows() != 3 || st.GetMaxFlows() != 200 || st.GetSeenFlows() != 5 || st.GetFlowsRate() != 2 {
		t.Errorf("sums: num %d max %d seen %d rate %v", st.GetNumFlows(), st.GetMaxFlows(), st.GetSeenFlows(), st.GetFlowsRate())
	}
	if st.GetUptimeNs() != 2e9 { // bb's, the longest
		t.Errorf("uptime = %d", st.GetUptimeNs())
	}
	if st.GetNumConnectedNodes().GetValue() != 2 || st.GetNumUnavailableNodes().GetValue() != 1 ||
		!slices.Equal(st.GetUnavailableNodes(), []string{"c"}) {
		t.Errorf("nodes: connected %v unavailable %v %v", st.GetNumConnectedNodes(), st.GetNumUnavailableNodes(), st.GetUnavailableNodes())
	}
	if st.GetVersion() != "relay-test" {
		t.Errorf("version = %q", st.GetVersion())
	}
}

func TestServerStatusNamesAtMostTenUnavailableNodes(t *testing.T) {
	r := newTestRelay[*fakeAgent](t, testMerge)
	for i := range 12 {
		r.peers.changes <- PeerChange{Type: PeerAdded, Peer: Peer{Name: string(rune('a' + i))}}
	}
	st, err := r.client.ServerStatus(context.Background(), &observerpb.ServerStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetNumUnavailableNodes().GetValue() != 12 || len(st.GetUnavailableNodes()) != 10 {
		t.Fatalf("unavailable %v, named %v", st.GetNumUnavailableNodes(), st.GetUnavailableNodes())
	}
}

func TestGetNodes(t *testing.T) {
	a := newFakeAgent(t, "a", at(1))
	b := newFakeAgent(t, "b")
	r := newTestRelay(t, testMerge, a, b)
	b.kill()
	waitState(t, r.pool, "b", relaypb.NodeState_NODE_UNAVAILABLE, false)
	r.peers.changes <- PeerChange{Type: PeerAdded, Peer: Peer{Name: "unix-only"}}

	resp, err := r.client.GetNodes(context.Background(), &observerpb.GetNodesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	nodes := resp.GetNodes()
	if len(nodes) != 3 {
		t.Fatalf("got %d nodes: %v", len(nodes), nodes)
	}
	na, nb, nu := nodes[0], nodes[1], nodes[2]
	if na.GetName() != "a" || na.GetState() != relaypb.NodeState_NODE_CONNECTED || na.GetVersion() != "agent-a" ||
		na.GetAddress() != a.addr || na.GetNumFlows() != 1 || na.GetMaxFlows() != 100 || na.GetUptimeNs() == 0 ||
		na.GetTls().GetEnabled() {
		t.Errorf("node a = %v", na)
	}
	if nb.GetName() != "b" || nb.GetState() != relaypb.NodeState_NODE_UNAVAILABLE {
		t.Errorf("node b = %v", nb)
	}
	if nu.GetName() != "unix-only" || nu.GetState() != relaypb.NodeState_NODE_ERROR {
		t.Errorf("node without address = %v", nu)
	}
}

func TestGetNamespacesUnion(t *testing.T) {
	a := newFakeAgent(t, "a")
	b := newFakeAgent(t, "b")
	r := newTestRelay(t, testMerge, a, b)
	resp, err := r.client.GetNamespaces(context.Background(), &observerpb.GetNamespacesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ns := range resp.GetNamespaces() {
		got = append(got, ns.GetCluster()+"/"+ns.GetNamespace())
	}
	if want := []string{"default/ns-a", "default/ns-b", "default/shared"}; !slices.Equal(got, want) {
		t.Fatalf("namespaces = %v, want %v", got, want)
	}
}
