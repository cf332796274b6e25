package relay

import (
	"context"
	"fmt"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"

	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/test/hubbleui"
)

// TestHubbleUIContract sends Hubble UI's request through the relay to real
// agent observers and expects exactly the request-direction flows of the
// namespace's connections, with every field the UI reads.
func TestHubbleUIContract(t *testing.T) {
	const nodes = 3
	agents := make([]*realAgent, nodes)
	for i := range agents {
		agents[i] = newRealAgent(t, fmt.Sprintf("node%d", i+1), 1023)
	}
	start := time.Now().Add(-time.Minute)
	want := map[uint16]bool{} // source ports of the expected flows
	for i, a := range agents {
		frontend := a.endpoint("demo/frontend", 1001, "k8s:app=frontend")
		backend := a.endpoint("demo/backend", 1002, "k8s:app=backend")
		dns := a.endpoint("kube-system/coredns", 1003, "k8s:k8s-app=kube-dns")
		host := a.endpoint("", 1, "reserved:host")
		other := a.endpoint("other/client", 1004, "k8s:app=client")
		port := uint16(40000 + i)
		at := func(ms int) time.Time { return start.Add(time.Duration(10*ms+i) * time.Millisecond) }
		// Noise before and after the expected flows.
		a.write(at(0), conn{src: frontend, dst: dns, srcIP: "10.0.0.1", dstIP: "10.0.0.53", srcPort: 50000, dstPort: 53, proto: record.ProtoUDP})
		a.write(at(1), conn{src: host, dst: backend, srcIP: "172.30.0.1", dstIP: "10.0.0.2", srcPort: 50001, dstPort: 8080, proto: record.ProtoTCP})
		a.write(at(2), conn{src: frontend, dst: backend, srcIP: "10.0.0.1", dstIP: "10.0.0.2", srcPort: port, dstPort: 8080, proto: record.ProtoTCP})
		a.write(at(3), conn{src: backend, dst: frontend, srcIP: "10.0.0.2", dstIP: "10.0.0.1", srcPort: 8080, dstPort: port, proto: record.ProtoTCP, reply: true})
		a.write(at(4), conn{src: other, dst: other, srcIP: "10.0.9.1", dstIP: "10.0.9.2", srcPort: 50002, dstPort: 80, proto: record.ProtoTCP})
		a.write(at(5), conn{src: backend, dst: host, srcIP: "10.0.0.2", dstIP: "172.30.0.1", srcPort: 50003, dstPort: 10250, proto: record.ProtoTCP})
		want[port] = true
	}
	r := newTestRelay(t, testMerge, agents...)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := r.client.GetFlows(ctx, hubbleui.FlowsRequest("demo"))
	if err != nil {
		t.Fatal(err)
	}
	// Every flow is history, so all arrive within the drain timeout; wait
	// longer than that for any that should not.
	deadline := time.Now().Add(testMerge.DrainTimeout + time.Second)
	got := map[uint16]bool{}
	for time.Now().Before(deadline) {
		recvCtx, recvCancel := context.WithDeadline(ctx, deadline)
		resp, err := recvWithin(recvCtx, stream)
		recvCancel()
		if err != nil {
			break
		}
		f := resp.GetFlow()
		if f == nil {
			continue
		}
		if err := checkUIFlow(f); err != nil {
			t.Fatalf("%v: %v", err, f)
		}
		port := uint16(f.GetL4().GetTCP().GetSourcePort())
		if !want[port] {
			t.Fatalf("unexpected flow: %v", f)
		}
		got[port] = true
	}
	if len(got) != len(want) {
		t.Fatalf("got the request flows of source ports %v, want %v", got, want)
	}
}

// checkUIFlow reports a flow missing what Hubble UI reads.
func checkUIFlow(f *flowpb.Flow) error {
	switch {
	case f.GetL4() == nil:
		return fmt.Errorf("no l4")
	case f.GetSource() == nil || f.GetDestination() == nil:
		return fmt.Errorf("no source or destination")
	case f.GetSource().GetIdentity() == 0 || f.GetDestination().GetIdentity() == 0:
		return fmt.Errorf("no identity")
	case len(f.GetSource().GetLabels()) == 0 || len(f.GetDestination().GetLabels()) == 0:
		return fmt.Errorf("no labels")
	case f.GetIsReply() == nil || f.GetIsReply().GetValue():
		return fmt.Errorf("not a request-direction flow")
	}
	return nil
}

// recvWithin receives from a stream, giving up when ctx ends.
func recvWithin(ctx context.Context, s interface {
	Recv() (*observerpb.GetFlowsResponse, error)
}) (*observerpb.GetFlowsResponse, error) {
	type result struct {
		resp *observerpb.GetFlowsResponse
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		resp, err := s.Recv()
		ch <- result{resp, err}
	}()
	select {
	case r := <-ch:
		return r.resp, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
