package observer_test

import (
	"context"
	"sync"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/foveanet/fovea/api/observer"
)

// TestConcurrentStreams runs readers against a small ring that a writer
// keeps overtaking: each following stream must account for every record,
// as a flow or as lost, in order.
func TestConcurrentStreams(t *testing.T) {
	const total = 20000
	e := newEnv(t, 63, nil, observer.WithLostEventInterval(10*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Each stream must have read record 0 before the writer starts, else a
	// stream could start after records it can no longer see.
	e.write(1)
	var wg sync.WaitGroup
	for range 4 {
		stream, err := e.client.GetFlows(ctx, &observerpb.GetFlowsRequest{Follow: true, Since: timestamppb.New(base)})
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := stream.Recv(); err != nil || resp.GetFlow() == nil {
			t.Fatalf("first response: %v, %v", resp, err)
		}
		wg.Go(func() {
			var flows, lost uint64 = 1, 0
			last := 0
			for flows+lost < total {
				resp, err := stream.Recv()
				if err != nil {
					t.Errorf("after %d flows and %d lost: %v", flows, lost, err)
					return
				}
				if l := resp.GetLostEvents(); l != nil {
					lost += l.GetNumEventsLost()
					continue
				}
				p := int(resp.GetFlow().GetL4().GetTCP().GetSourcePort())
				if p <= last {
					t.Errorf("flow %d after %d", p, last)
					return
				}
				last = p
				flows++
			}
			if flows+lost != total {
				t.Errorf("%d flows + %d lost != %d written", flows, lost, total)
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil && e.ring.Head() < total {
				res := e.getFlows(&observerpb.GetFlowsRequest{Number: 20})
				if res.err != nil {
					t.Errorf("snapshot stream: %v", res.err)
					return
				}
				for i := 1; i < len(res.ports); i++ {
					if res.ports[i] <= res.ports[i-1] {
						t.Errorf("snapshot out of order: %v", res.ports)
						return
					}
				}
				if _, err := e.client.ServerStatus(ctx, &observerpb.ServerStatusRequest{}); err != nil {
					t.Errorf("ServerStatus: %v", err)
					return
				}
			}
		})
	}
	for i := 1; i < total; i += 111 {
		e.write(min(111, total-i))
		time.Sleep(100 * time.Microsecond)
	}
	wg.Wait()
}
