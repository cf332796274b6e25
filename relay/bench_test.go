package relay

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	peertypes "github.com/cilium/cilium/pkg/hubble/peer/types"
	ciliumrelay "github.com/cilium/cilium/pkg/hubble/relay/observer"
	pooltypes "github.com/cilium/cilium/pkg/hubble/relay/pool/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/foveanet/fovea/model/record"
)

// benchFlowsPerNode is how many flows each in-process agent holds and
// serves per GetFlows.
const benchFlowsPerNode = 1000

var benchNodes = []int{1, 8, 64, 256}

// benchAgents starts n in-process agents holding benchFlowsPerNode flows
// each, interleaved in time across agents.
func benchAgents(b *testing.B, n int) []*realAgent {
	b.Helper()
	agents := make([]*realAgent, n)
	start := time.Now().Add(-time.Hour)
	for i := range agents {
		a := newRealAgent(b, fmt.Sprintf("node%d", i), 1023)
		src := a.endpoint("demo/client", 1001, "k8s:app=client")
		dst := a.endpoint("demo/server", 1002, "k8s:app=server")
		for j := range benchFlowsPerNode {
			at := start.Add(time.Duration(j*n+i) * time.Microsecond)
			a.write(at, conn{src: src, dst: dst, srcIP: "10.0.0.1", dstIP: "10.0.0.2", srcPort: uint16(30000 + j), dstPort: 80, proto: record.ProtoTCP})
		}
		agents[i] = a
	}
	return agents
}

// benchRelay is a relay implementation served on a local address.
type benchRelay struct {
	name   string
	client observerpb.ObserverClient
	addr   string
}

// serveRelay serves srv and returns a client of it and its address.
func serveRelay(b *testing.B, srv observerpb.ObserverServer) (observerpb.ObserverClient, string) {
	b.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	gs := grpc.NewServer()
	observerpb.RegisterObserverServer(gs, srv)
	go gs.Serve(lis)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		conn.Close()
		gs.Stop()
	})
	return observerpb.NewObserverClient(conn), lis.Addr().String()
}

// foveaRelay is this package's relay over agents.
func foveaRelay[A agent](b *testing.B, agents []A) benchRelay {
	r := newTestRelay(b, MergeConfig{SortBufferLen: 1024, DrainTimeout: time.Second, RetryInterval: 2 * time.Second}, agents...)
	return benchRelay{name: "fovea", client: r.client, addr: r.addr}
}

// ciliumPeers lists agents for Cilium's relay, one connection each, as its
// pool would.
type ciliumPeers []pooltypes.Peer

func (p ciliumPeers) List() []pooltypes.Peer { return p }

// ciliumRelay is Cilium's relay observer (pkg/hubble/relay/observer) over
// agents, with its default sort buffer and drain timeout.
func ciliumRelay[A agent](b *testing.B, agents []A) benchRelay {
	b.Helper()
	peers := make(ciliumPeers, len(agents))
	for i, a := range agents {
		p := a.peer()
		conn, err := grpc.NewClient(p.Address, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		conn.Connect()
		b.Cleanup(func() { conn.Close() })
		addr, err := net.ResolveTCPAddr("tcp", p.Address)
		if err != nil {
			b.Fatal(err)
		}
		peers[i] = pooltypes.Peer{Peer: peertypes.Peer{Name: p.Name, Address: addr}, Conn: conn}
	}
	srv, err := ciliumrelay.NewServer(peers, ciliumrelay.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	client, addr := serveRelay(b, srv)
	return benchRelay{name: "cilium", client: client, addr: addr}
}

var relays = []func(*testing.B, []*realAgent) benchRelay{foveaRelay[*realAgent], ciliumRelay[*realAgent]}

// BenchmarkRelayGetFlows measures merged flows per second through one
// GetFlows asking every node for all its flows, and process CPU per flow
// (relay, agents and client all run in this process, the same for both
// relays).
func BenchmarkRelayGetFlows(b *testing.B) {
	for _, n := range benchNodes {
		agents := benchAgents(b, n)
		fovea, cilium := foveaRelay(b, agents), ciliumRelay(b, agents)
		direct := directClients(b, agents)
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			compareGetFlows(b, fovea.client, cilium.client, direct)
		})
	}
}

// compareGetFlows runs, per iteration, one GetFlows for every node's flows
// through each relay and, as a baseline, straight from every agent (direct,
// one client per agent), in turns so that all see the same load of a
// shared machine. It reports each relay's flows per second and process CPU
// per flow, Fovea's speed-up, and the baseline's CPU per flow: what the
// agents and the client cost without a relay.
func compareGetFlows(b *testing.B, fovea, cilium observerpb.ObserverClient, direct []observerpb.ObserverClient) {
	nodes := len(direct)
	runs := [3]func(){
		func() { getAllFlows(b, fovea, nodes) },
		func() { getAllFlows(b, cilium, nodes) },
		func() { getDirect(b, direct) },
	}
	var wall, cpu [3]time.Duration
	turn := 0
	for b.Loop() {
		for k := range runs {
			r := (turn + k) % len(runs)
			cpu0, t0 := cpuTime(), time.Now()
			runs[r]()
			wall[r] += time.Since(t0)
			cpu[r] += cpuTime() - cpu0
		}
		turn++
	}
	flows := float64(b.N * nodes * benchFlowsPerNode)
	foveaRate, ciliumRate := flows/wall[0].Seconds(), flows/wall[1].Seconds()
	b.ReportMetric(foveaRate, "fovea-flows/s")
	b.ReportMetric(ciliumRate, "cilium-flows/s")
	b.ReportMetric(foveaRate/ciliumRate, "fovea/cilium")
	b.ReportMetric(float64(cpu[0].Nanoseconds())/flows, "fovea-cpu-ns/flow")
	b.ReportMetric(float64(cpu[1].Nanoseconds())/flows, "cilium-cpu-ns/flow")
	b.ReportMetric(float64(cpu[2].Nanoseconds())/flows, "direct-cpu-ns/flow")
}

// directClients connects to every agent, with the client's codec options.
func directClients[A agent](b *testing.B, agents []A, opts ...grpc.CallOption) []observerpb.ObserverClient {
	out := make([]observerpb.ObserverClient, len(agents))
	for i, a := range agents {
		conn, err := grpc.NewClient(a.peer().Address, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(opts...))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		out[i] = observerpb.NewObserverClient(conn)
	}
	return out
}

// getDirect reads every agent's flows over its own call, concurrently, as a
// relay does, without merging them.
func getDirect(b *testing.B, agents []observerpb.ObserverClient) {
	var wg sync.WaitGroup
	errs := make(chan error, len(agents))
	for _, c := range agents {
		wg.Go(func() {
			s, err := c.GetFlows(context.Background(), &observerpb.GetFlowsRequest{Number: benchFlowsPerNode})
			if err != nil {
				errs <- err
				return
			}
			got := 0
			for {
				resp, err := s.Recv()
				if err == io.EOF {
					break
				}
				if err != nil {
					errs <- err
					return
				}
				if resp.GetFlow() != nil {
					got++
				}
			}
			if got != benchFlowsPerNode {
				errs <- fmt.Errorf("got %d flows from an agent, want %d", got, benchFlowsPerNode)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// getAllFlows runs one GetFlows for every node's flows and checks that all
// of them came.
func getAllFlows(b *testing.B, client observerpb.ObserverClient, nodes int) {
	s, err := client.GetFlows(context.Background(), &observerpb.GetFlowsRequest{Number: benchFlowsPerNode})
	if err != nil {
		b.Fatal(err)
	}
	got := 0
	for {
		resp, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if resp.GetFlow() != nil {
			got++
		}
	}
	if got != nodes*benchFlowsPerNode {
		b.Fatalf("got %d flows, want %d", got, nodes*benchFlowsPerNode)
	}
}

// BenchmarkRelayTimeToFirstFlow measures how long a follow stream asking
// for each node's last 10 flows takes to deliver its first flow.
func BenchmarkRelayTimeToFirstFlow(b *testing.B) {
	for _, n := range benchNodes {
		agents := benchAgents(b, n)
		for _, newRelay := range relays {
			r := newRelay(b, agents)
			b.Run(fmt.Sprintf("relay=%s/nodes=%d", r.name, n), func(b *testing.B) {
				req := &observerpb.GetFlowsRequest{Follow: true, Number: 10}
				var lat []time.Duration
				for b.Loop() {
					ctx, cancel := context.WithCancel(context.Background())
					t0 := time.Now()
					s, err := r.client.GetFlows(ctx, req)
					if err != nil {
						b.Fatal(err)
					}
					for {
						resp, err := s.Recv()
						if err != nil {
							b.Fatal(err)
						}
						if resp.GetFlow() != nil {
							break
						}
					}
					lat = append(lat, time.Since(t0))
					cancel()
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1e3, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1e3, "p99-ms")
			})
		}
	}
}

// BenchmarkRelayStreamMemory measures the heap each open follow stream
// holds once it is idle, with every node's stream open.
func BenchmarkRelayStreamMemory(b *testing.B) {
	const streams = 20
	for _, n := range benchNodes {
		agents := benchAgents(b, n)
		for _, newRelay := range relays {
			r := newRelay(b, agents)
			b.Run(fmt.Sprintf("relay=%s/nodes=%d", r.name, n), func(b *testing.B) {
				var perStream float64
				for b.Loop() {
					before := heapInUse()
					ctx, cancel := context.WithCancel(context.Background())
					for range streams {
						s, err := r.client.GetFlows(ctx, &observerpb.GetFlowsRequest{Follow: true})
						if err != nil {
							b.Fatal(err)
						}
						if _, err := s.Recv(); err != nil { // the node status event
							b.Fatal(err)
						}
					}
					time.Sleep(200 * time.Millisecond) // every node's call is open
					perStream = float64(heapInUse()-before) / streams
					cancel()
					time.Sleep(100 * time.Millisecond)
				}
				b.ReportMetric(perStream, "heap-B/stream")
			})
		}
	}
}

func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}
