package relay

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	relaypb "github.com/cilium/cilium/api/v1/relay"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func flowsOf(rs []*observerpb.GetFlowsResponse) []*flowpb.Flow {
	var out []*flowpb.Flow
	for _, r := range rs {
		if f := r.GetFlow(); f != nil {
			out = append(out, f)
		}
	}
	return out
}

func statusesOf(rs []*observerpb.GetFlowsResponse) []*relaypb.NodeStatusEvent {
	var out []*relaypb.NodeStatusEvent
	for _, r := range rs {
		if s := r.GetNodeStatus(); s != nil {
			out = append(out, s)
		}
	}
	return out
}

func sortedByTime(flows []*flowpb.Flow) bool {
	return slices.IsSortedFunc(flows, func(a, b *flowpb.Flow) int { return a.GetTime().AsTime().Compare(b.GetTime().AsTime()) })
}

func TestGetFlowsMergesNodesInTimeOrder(t *testing.T) {
	a := newFakeAgent(t, "a", at(1), at(4), at(7), at(10))
	b := newFakeAgent(t, "b", at(2), at(5), at(8))
	c := newFakeAgent(t, "c", at(3), at(6), at(9), at(11), at(12))
	r := newTestRelay(t, testMerge, a, b, c)

	s, err := r.client.GetFlows(context.Background(), &observerpb.GetFlowsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	rs := collect(t, s)
	st := rs[0].GetNodeStatus()
	if st.GetStateChange() != relaypb.NodeState_NODE_CONNECTED || !slices.Equal(st.GetNodeNames(), []string{"a", "b", "c"}) ||
		rs[0].GetNodeName() != "relay" {
		t.Fatalf("first response = %v, want NODE_CONNECTED for a, b, c", rs[0])
	}
	flows := flowsOf(rs)
	if len(flows) != 12 || !sortedByTime(flows) {
		t.Fatalf("got %d flows, sorted %v: %v", len(flows), sortedByTime(flows), flows)
	}
	if n := len(statusesOf(rs)); n != 1 {
		t.Fatalf("got %d node status events, want 1", n)
	}
}

func TestGetFlowsPushesRequestDown(t *testing.T) {
	a := newFakeAgent(t, "a", at(1), at(2), at(3))
	b := newFakeAgent(t, "b", at(4), at(5))
	r := newTestRelay(t, testMerge, a, b)
	req := &observerpb.GetFlowsRequest{
		Number:    2,
		Whitelist: []*flowpb.FlowFilter{{SourcePod: []string{"demo/"}}},
		FieldMask: &fieldmaskpb.FieldMask{Paths: []string{"time", "node_name"}},
	}
	s, err := r.client.GetFlows(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(flowsOf(collect(t, s))); got != 4 {
		t.Fatalf("got %d flows, want 2 per node", got)
	}
	for _, ag := range []*fakeAgent{a, b} {
		got := ag.lastRequest()
		if got.GetNumber() != 2 || got.GetWhitelist()[0].GetSourcePod()[0] != "demo/" || len(got.GetFieldMask().GetPaths()) != 2 {
			t.Fatalf("agent %s got %v", ag.name, got)
		}
	}
}

func TestGetFlowsRejectsInvalidRequestsOnce(t *testing.T) {
	a := newFakeAgent(t, "a", at(1))
	r := newTestRelay(t, testMerge, a)
	for name, req := range map[string]*observerpb.GetFlowsRequest{
		"first and follow": {First: true, Follow: true},
		"bad filter":       {Whitelist: []*flowpb.FlowFilter{{SourceIp: []string{"not-an-ip"}}}},
		"bad field mask":   {FieldMask: &fieldmaskpb.FieldMask{Paths: []string{"no_such_field"}}},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := r.client.GetFlows(context.Background(), req)
			if err == nil {
				_, err = s.Recv()
			}
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("got %v, want InvalidArgument", err)
			}
		})
	}
	if n := len(a.requests); n != 0 {
		t.Fatalf("agent received %d requests; invalid ones must not be fanned out", n)
	}
}

func TestGetFlowsReportsUnavailableNodesUpFront(t *testing.T) {
	a := newFakeAgent(t, "a", at(1))
	b := newFakeAgent(t, "b", at(2))
	r := newTestRelay(t, testMerge, a, b)
	b.kill()
	waitState(t, r.pool, "b", relaypb.NodeState_NODE_UNAVAILABLE, false)

	s, err := r.client.GetFlows(context.Background(), &observerpb.GetFlowsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	rs := collect(t, s)
	sts := statusesOf(rs)
	if len(sts) != 2 || sts[0].GetStateChange() != relaypb.NodeState_NODE_CONNECTED ||
		sts[1].GetStateChange() != relaypb.NodeState_NODE_UNAVAILABLE || sts[1].GetNodeNames()[0] != "b" {
		t.Fatalf("node status events = %v", sts)
	}
	if got := len(flowsOf(rs)); got != 1 {
		t.Fatalf("got %d flows, want a's one", got)
	}
}

// waitState waits until the pool reports node in state (and availability).
func waitState(t *testing.T, p *Pool, node string, state relaypb.NodeState, available bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range p.Nodes() {
			if n.Name == node && n.State == state && n.Available == available {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("node %s never reached %v: %+v", node, state, p.Nodes())
}

// followed reads a follow stream in the background.
type followed struct {
	ch   chan *observerpb.GetFlowsResponse
	errc chan error
}

func follow(t *testing.T, r *testRelay, req *observerpb.GetFlowsRequest) *followed {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := r.client.GetFlows(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	f := &followed{ch: make(chan *observerpb.GetFlowsResponse, 1024), errc: make(chan error, 1)}
	go func() {
		for {
			resp, err := s.Recv()
			if err != nil {
				f.errc <- err
				return
			}
			f.ch <- resp
		}
	}()
	return f
}

// until reads responses until one satisfies ok, failing after 5 s.
func (f *followed) until(t *testing.T, what string, ok func(*observerpb.GetFlowsResponse) bool) []*observerpb.GetFlowsResponse {
	t.Helper()
	var seen []*observerpb.GetFlowsResponse
	timeout := time.After(5 * time.Second)
	for {
		select {
		case r := <-f.ch:
			seen = append(seen, r)
			if ok(r) {
				return seen
			}
		case err := <-f.errc:
			t.Fatalf("stream ended waiting for %s: %v (seen %v)", what, err, seen)
		case <-timeout:
			t.Fatalf("no %s after 5s; seen %v", what, seen)
		}
	}
}

func isStatus(state relaypb.NodeState, node string) func(*observerpb.GetFlowsResponse) bool {
	return func(r *observerpb.GetFlowsResponse) bool {
		s := r.GetNodeStatus()
		return s.GetStateChange() == state && slices.Contains(s.GetNodeNames(), node)
	}
}

func isFlowFrom(node string, t time.Time) func(*observerpb.GetFlowsResponse) bool {
	return func(r *observerpb.GetFlowsResponse) bool {
		return r.GetFlow().GetNodeName() == node && r.GetFlow().GetTime().AsTime().Equal(t)
	}
}

func TestFollowSurvivesNodeFailureAndResumes(t *testing.T) {
	a := newFakeAgent(t, "a")
	b := newFakeAgent(t, "b")
	r := newTestRelay(t, testMerge, a, b)
	f := follow(t, r, &observerpb.GetFlowsRequest{Follow: true})
	f.until(t, "NODE_CONNECTED", isStatus(relaypb.NodeState_NODE_CONNECTED, "b"))
	waitFollowers(t, a, b)

	now := time.Now()
	b.publish(now)
	f.until(t, "b's first flow", isFlowFrom("b", now))

	addr := b.addr
	b.kill()
	f.until(t, "NODE_UNAVAILABLE", isStatus(relaypb.NodeState_NODE_UNAVAILABLE, "b"))
	a.publish(now.Add(time.Millisecond))
	f.until(t, "a's flow after b failed", isFlowFrom("a", now.Add(time.Millisecond)))

	// b comes back with a flow it saw while down and the one already sent.
	b.serve(t, addr)
	b.publish(now.Add(2 * time.Millisecond))
	f.until(t, "NODE_CONNECTED again", isStatus(relaypb.NodeState_NODE_CONNECTED, "b"))
	seen := f.until(t, "b's flow from while it was away", isFlowFrom("b", now.Add(2*time.Millisecond)))
	for _, resp := range seen {
		if isFlowFrom("b", now)(resp) {
			t.Fatal("a resumed node sent an already relayed flow again")
		}
	}
	if since := b.lastRequest().GetSince(); since == nil || !since.AsTime().After(now) {
		t.Fatalf("resumed request since = %v, want just after %v", since, now)
	}
}

// waitFollowers waits until every agent has a follower.
func waitFollowers(t *testing.T, agents ...*fakeAgent) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, a := range agents {
		for {
			a.mu.Lock()
			n := len(a.follow)
			a.mu.Unlock()
			if n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("agent %s has no follower", a.name)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func TestFollowPicksUpNewNodesAndReportsGoneOnes(t *testing.T) {
	a := newFakeAgent(t, "a")
	r := newTestRelay(t, testMerge, a)
	f := follow(t, r, &observerpb.GetFlowsRequest{Follow: true})
	f.until(t, "NODE_CONNECTED", isStatus(relaypb.NodeState_NODE_CONNECTED, "a"))

	b := newFakeAgent(t, "b")
	r.peers.changes <- PeerChange{Type: PeerAdded, Peer: Peer{Name: "b", Address: b.addr}}
	f.until(t, "NODE_CONNECTED for the new node", isStatus(relaypb.NodeState_NODE_CONNECTED, "b"))
	waitFollowers(t, b)
	now := time.Now()
	b.publish(now)
	f.until(t, "the new node's flow", isFlowFrom("b", now))

	r.peers.changes <- PeerChange{Type: PeerDeleted, Peer: Peer{Name: "a"}}
	f.until(t, "NODE_GONE", isStatus(relaypb.NodeState_NODE_GONE, "a"))
	b.publish(now.Add(time.Millisecond))
	f.until(t, "flows after a node left", isFlowFrom("b", now.Add(time.Millisecond)))
}

func TestGetFlowsReportsNodeErrors(t *testing.T) {
	a := newFakeAgent(t, "a", at(1))
	// b answers every call with an error instead of flows.
	b := &fakeAgent{name: "b", impl: failingAgent{}}
	b.serve(t, "127.0.0.1:0")
	r := newTestRelay(t, testMerge, a, b)
	s, err := r.client.GetFlows(context.Background(), &observerpb.GetFlowsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	rs := collect(t, s)
	var errs []*relaypb.NodeStatusEvent
	for _, st := range statusesOf(rs) {
		if st.GetStateChange() == relaypb.NodeState_NODE_ERROR {
			errs = append(errs, st)
		}
	}
	if len(errs) != 1 || errs[0].GetNodeNames()[0] != "b" || errs[0].GetMessage() != "disk on fire" {
		t.Fatalf("NODE_ERROR events = %v", errs)
	}
	if got := len(flowsOf(rs)); got != 1 {
		t.Fatalf("got %d flows, want a's one", got)
	}
}

type failingAgent struct {
	observerpb.UnimplementedObserverServer
}

func (failingAgent) GetFlows(*observerpb.GetFlowsRequest, grpc.ServerStreamingServer[observerpb.GetFlowsResponse]) error {
	return status.Error(codes.Internal, "disk on fire")
}

func TestFollowNodeLeavingComingBackAndMoving(t *testing.T) {
	a := newFakeAgent(t, "a")
	b := newFakeAgent(t, "b")
	r := newTestRelay(t, testMerge, a, b)
	f := follow(t, r, &observerpb.GetFlowsRequest{Follow: true})
	f.until(t, "NODE_CONNECTED", isStatus(relaypb.NodeState_NODE_CONNECTED, "b"))
	waitFollowers(t, a, b)

	r.peers.changes <- PeerChange{Type: PeerDeleted, Peer: Peer{Name: "b"}}
	f.until(t, "NODE_GONE", isStatus(relaypb.NodeState_NODE_GONE, "b"))
	r.peers.changes <- PeerChange{Type: PeerAdded, Peer: Peer{Name: "b", Address: b.addr}}
	f.until(t, "NODE_CONNECTED for the returning node", isStatus(relaypb.NodeState_NODE_CONNECTED, "b"))
	// The node moves to another address of the same agent: its call moves
	// along, without an error.
	b.mu.Lock()
	calls := len(b.requests)
	b.mu.Unlock()
	_, port, _ := net.SplitHostPort(b.addr)
	r.peers.changes <- PeerChange{Type: PeerUpdated, Peer: Peer{Name: "b", Address: "localhost:" + port}}
	waitRequests(t, b, calls+1)

	// a's flows wait for b's: the returning node's call counts as
	// streaming for the merge.
	now := time.Now()
	for i := range 3 {
		b.publish(now.Add(time.Duration(2*i) * time.Millisecond))
		a.publish(now.Add(time.Duration(2*i+1) * time.Millisecond))
	}
	var flows []*flowpb.Flow
	seen := f.until(t, "six flows", func(r *observerpb.GetFlowsResponse) bool {
		if fl := r.GetFlow(); fl != nil {
			flows = append(flows, fl)
		}
		return len(flows) == 6
	})
	if !sortedByTime(flows) {
		t.Fatalf("flows out of order: %v", flows)
	}
	for _, st := range statusesOf(seen) {
		if st.GetStateChange() == relaypb.NodeState_NODE_ERROR {
			t.Fatalf("moving a node reported an error: %v", st)
		}
	}
}

// waitRequests waits until a has received n GetFlows calls.
func waitRequests(t *testing.T, a *fakeAgent, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.mu.Lock()
		got := len(a.requests)
		a.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent %s got %d calls, want %d", a.name, got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
