package relay

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	relaypb "github.com/cilium/cilium/api/v1/relay"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/foveanet/fovea/api/metrics"
)

// fakeAgent serves a fixed history of flows and, to followers, flows
// published later.
type fakeAgent struct {
	observerpb.UnimplementedObserverServer
	name string

	mu       sync.Mutex
	history  []*flowpb.Flow
	follow   []chan *flowpb.Flow
	requests []*observerpb.GetFlowsRequest

	// impl is the service served: the fake itself unless a test swaps it.
	impl observerpb.ObserverServer
	srv  *grpc.Server
	addr string
}

func newFakeAgent(t *testing.T, name string, times ...time.Time) *fakeAgent {
	t.Helper()
	a := &fakeAgent{name: name}
	a.impl = a
	for _, at := range times {
		a.history = append(a.history, a.flow(at))
	}
	a.serve(t, "127.0.0.1:0")
	return a
}

func (a *fakeAgent) flow(at time.Time) *flowpb.Flow {
	return &flowpb.Flow{Time: timestamppb.New(at), NodeName: a.name, Verdict: flowpb.Verdict_FORWARDED}
}

// serve (re)starts the agent's server on addr.
func (a *fakeAgent) serve(t *testing.T, addr string) {
	t.Helper()
	var lis net.Listener
	var err error
	for range 50 { // a restarted agent may find its port in TIME_WAIT
		if lis, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	a.addr = lis.Addr().String()
	a.srv = grpc.NewServer(agentKeepalive)
	observerpb.RegisterObserverServer(a.srv, a.impl)
	go a.srv.Serve(lis)
	t.Cleanup(a.srv.Stop)
}

func (a *fakeAgent) kill() {
	a.srv.Stop()
}

// publish sends a flow at time at to followers and keeps it in history.
func (a *fakeAgent) publish(at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.flow(at)
	a.history = append(a.history, f)
	for _, c := range a.follow {
		select {
		case c <- f:
		default:
		}
	}
}

func (a *fakeAgent) lastRequest() *observerpb.GetFlowsRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.requests) == 0 {
		return nil
	}
	return a.requests[len(a.requests)-1]
}

func (a *fakeAgent) GetFlows(req *observerpb.GetFlowsRequest, stream grpc.ServerStreamingServer[observerpb.GetFlowsResponse]) error {
	a.mu.Lock()
	a.requests = append(a.requests, req)
	var since time.Time
	if req.GetSince() != nil {
		since = req.GetSince().AsTime()
	}
	var backlog []*flowpb.Flow
	for _, f := range a.history {
		if !f.GetTime().AsTime().Before(since) {
			backlog = append(backlog, f)
		}
	}
	if n := int(req.GetNumber()); n > 0 && n < len(backlog) {
		backlog = backlog[len(backlog)-n:]
	}
	if req.GetFollow() && req.GetNumber() == 0 && req.GetSince() == nil {
		backlog = nil
	}
	var live chan *flowpb.Flow
	if req.GetFollow() {
		live = make(chan *flowpb.Flow, 1024)
		a.follow = append(a.follow, live)
	}
	a.mu.Unlock()
	for _, f := range backlog {
		if err := stream.Send(response(f)); err != nil {
			return err
		}
	}
	if live == nil {
		return nil
	}
	for {
		select {
		case f := <-live:
			if err := stream.Send(response(f)); err != nil {
				return err
			}
		case <-stream.Context().Done():
			return nil
		}
	}
}

func (a *fakeAgent) ServerStatus(context.Context, *observerpb.ServerStatusRequest) (*observerpb.ServerStatusResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return &observerpb.ServerStatusResponse{
		NumFlows: uint64(len(a.history)), MaxFlows: 100, SeenFlows: uint64(len(a.history)) + 1,
		UptimeNs: uint64(len(a.name)) * uint64(time.Second), Version: "agent-" + a.name, FlowsRate: 1,
	}, nil
}

func (a *fakeAgent) GetNamespaces(context.Context, *observerpb.GetNamespacesRequest) (*observerpb.GetNamespacesResponse, error) {
	return &observerpb.GetNamespacesResponse{Namespaces: []*observerpb.Namespace{
		{Cluster: "default", Namespace: "shared"},
		{Cluster: "default", Namespace: "ns-" + a.name},
	}}, nil
}

func response(f *flowpb.Flow) *observerpb.GetFlowsResponse {
	return &observerpb.GetFlowsResponse{
		Time: f.GetTime(), NodeName: f.GetNodeName(),
		ResponseTypes: &observerpb.GetFlowsResponse_Flow{Flow: f},
	}
}

// testRelay is an Observer over a pool of static peers, served on a local
// address.
type testRelay struct {
	pool   *Pool
	peers  *mutablePeers
	client observerpb.ObserverClient
	addr   string // where the relay serves
	reg    *metrics.Registry
}

// mutablePeers is a PeerLister tests change at will.
type mutablePeers struct {
	initial []Peer
	changes chan PeerChange
}

func (m *mutablePeers) Run(ctx context.Context, update func(PeerChange)) error {
	for _, p := range m.initial {
		update(PeerChange{Type: PeerAdded, Peer: p})
	}
	for {
		select {
		case c := <-m.changes:
			update(c)
		case <-ctx.Done():
			return nil
		}
	}
}

var testDial = DialConfig{TLS: ClientTLS{Insecure: true}, DialTimeout: time.Second, MaxBackoff: 200 * time.Millisecond, Keepalive: 30 * time.Second}

var testMerge = MergeConfig{SortBufferLen: 1024, DrainTimeout: 200 * time.Millisecond, RetryInterval: 100 * time.Millisecond}

// agent is an agent a test relay connects to.
type agent interface{ peer() Peer }

func (a *fakeAgent) peer() Peer { return Peer{Name: a.name, Address: a.addr} }

func newTestRelay[A agent](t testing.TB, merge MergeConfig, agents ...A) *testRelay {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("RELAY_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	pool, err := NewPool(testDial, log)
	if err != nil {
		t.Fatal(err)
	}
	peers := &mutablePeers{changes: make(chan PeerChange)}
	for _, a := range agents {
		peers.initial = append(peers.initial, a.peer())
	}
	ctx, cancel := context.WithCancel(context.Background())
	poolDone := make(chan struct{})
	go func() {
		defer close(poolDone)
		_ = pool.Run(ctx, peers)
	}()
	m, reg := new(Metrics), metrics.NewRegistry()
	if err := registerMetrics(reg, pool, m, nil); err != nil {
		t.Fatal(err)
	}
	obs, err := NewObserver(pool, merge, log, WithVersion("relay-test"), WithNodeName("relay"), WithMetrics(m))
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(ServerOptions()...)
	observerpb.RegisterObserverServer(srv, obs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecureCreds()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
		cancel()
		<-poolDone
	})
	r := &testRelay{pool: pool, peers: peers, client: observerpb.NewObserverClient(conn), addr: lis.Addr().String(), reg: reg}
	r.waitConnected(t, len(agents))
	return r
}

// waitConnected waits until n nodes are connected.
func (r *testRelay) waitConnected(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		got := 0
		for _, ni := range r.pool.Nodes() {
			if ni.State == relaypb.NodeState_NODE_CONNECTED {
				got++
			}
		}
		if got == n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d nodes not connected: %+v", n, r.pool.Nodes())
}

// collect reads a stream to its end.
func collect(t *testing.T, s grpc.ServerStreamingClient[observerpb.GetFlowsResponse]) []*observerpb.GetFlowsResponse {
	t.Helper()
	var out []*observerpb.GetFlowsResponse
	for {
		r, err := s.Recv()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		out = append(out, r)
	}
}

func insecureCreds() credentials.TransportCredentials { return insecure.NewCredentials() }
