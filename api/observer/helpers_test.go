package observer_test

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"

	"github.com/foveanet/fovea/api/filters"
	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/ringbuffer"
	"github.com/foveanet/fovea/test/grpctest"
)

var _ observer.Ring = (*ringbuffer.Ring[record.Record])(nil)

// base is the time of the first record tests write; record i is i seconds
// later.
var base = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type env struct {
	t      testing.TB
	ring   *ringbuffer.Ring[record.Record]
	node   *flowview.Node
	srv    *observer.Server
	client observerpb.ObserverClient
	next   int // index of the next record write writes
	mu     sync.Mutex
}

// newEnv serves an observer over an in-memory connection. wrap, if set,
// wraps the ring the observer reads.
func newEnv(t testing.TB, capacity int, wrap func(observer.Ring) observer.Ring, opts ...observer.Option) *env {
	t.Helper()
	ring, err := ringbuffer.New[record.Record](capacity)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ring: ring, node: flowview.NewNode("node-1", "kind", "v9.9.9", nil, intern.NewTables())}
	var r observer.Ring = ring
	if wrap != nil {
		r = wrap(ring)
	}
	opts = append([]observer.Option{observer.WithFilterBuilder(portFilters)}, opts...)
	e.srv, err = observer.New(r, e.node, opts...)
	if err != nil {
		t.Fatal(err)
	}
	e.client = serveObserver(t, e.srv)
	return e
}

// serveObserver serves srv over an in-memory connection until the test ends.
func serveObserver(t testing.TB, srv observerpb.ObserverServer) observerpb.ObserverClient {
	t.Helper()
	return observerpb.NewObserverClient(grpctest.Serve(t, func(gs *grpc.Server) { observerpb.RegisterObserverServer(gs, srv) }))
}

// write appends n TCP records; record i has source port i, time base+i s
// and destination port 80 when i is even, else 443.
func (e *env) write(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for range n {
		i := e.next
		e.next++
		rec := record.Record{
			Kind:    record.KindTrace,
			Proto:   record.ProtoTCP,
			Time:    base.Add(time.Duration(i) * time.Second).UnixNano(),
			SrcPort: uint16(i),
			DstPort: 443,
		}
		if i%2 == 0 {
			rec.DstPort = 80
		}
		rec.SetAddrs(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"))
		e.ring.Write(&rec)
	}
}

// writeLost appends a lost-event notice from an upstream stage.
func (e *env) writeLost(count uint32) {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := e.next
	e.next++
	e.ring.Write(&record.Record{
		Kind:       record.KindLost,
		Time:       base.Add(time.Duration(i) * time.Second).UnixNano(),
		Count:      count,
		LostSource: uint8(flowpb.LostEventSource_PERF_EVENT_RING_BUFFER),
	})
}

// portFilters is a stand-in filter builder: a filter's destination_port
// values select flows by destination port; any other field is an error.
func portFilters(whitelist, blacklist []*flowpb.FlowFilter) (filters.Func, error) {
	compile := func(list []*flowpb.FlowFilter) (map[uint16]bool, error) {
		ports := map[uint16]bool{}
		for _, f := range list {
			if len(f.GetSourceIp()) > 0 {
				return nil, errors.New("source_ip: unsupported by the test builder")
			}
			for _, p := range f.GetDestinationPort() {
				n, err := strconv.ParseUint(p, 10, 16)
				if err != nil {
					return nil, err
				}
				ports[uint16(n)] = true
			}
		}
		return ports, nil
	}
	white, err := compile(whitelist)
	if err != nil {
		return nil, err
	}
	black, err := compile(blacklist)
	if err != nil {
		return nil, err
	}
	return func(ev *flowview.Flow) bool {
		if len(whitelist) > 0 && !white[ev.Rec.DstPort] {
			return false
		}
		return !black[ev.Rec.DstPort]
	}, nil
}

// streamResult is what a finished GetFlows stream returned.
type streamResult struct {
	ports []uint32
	flows []*flowpb.Flow
	lost  []*flowpb.LostEvent
	resps []*observerpb.GetFlowsResponse
	err   error
}

func (e *env) getFlows(req *observerpb.GetFlowsRequest) streamResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := e.client.GetFlows(ctx, req)
	if err != nil {
		return streamResult{err: err}
	}
	var res streamResult
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return res
		}
		if err != nil {
			res.err = err
			return res
		}
		res.add(resp)
	}
}

func (r *streamResult) add(resp *observerpb.GetFlowsResponse) {
	r.resps = append(r.resps, resp)
	if f := resp.GetFlow(); f != nil {
		r.flows = append(r.flows, f)
		r.ports = append(r.ports, f.GetL4().GetTCP().GetSourcePort())
	}
	if l := resp.GetLostEvents(); l != nil {
		r.lost = append(r.lost, l)
	}
}

func seqPorts(from, to uint32) []uint32 {
	var out []uint32
	for p := from; p <= to; p++ {
		out = append(out, p)
	}
	return out
}

func ts(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }
