package relay

import (
	"bytes"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	relaypb "github.com/cilium/cilium/api/v1/relay"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestRawCodecPassesResponsesThrough(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 890, time.UTC)
	flow := &observerpb.GetFlowsResponse{
		NodeName:      "default/node1",
		Time:          timestamppb.New(at),
		ResponseTypes: &observerpb.GetFlowsResponse_Flow{Flow: &flowpb.Flow{NodeName: "default/node1", Summary: "TCP Flags: SYN"}},
	}
	status := &observerpb.GetFlowsResponse{ResponseTypes: &observerpb.GetFlowsResponse_NodeStatus{
		NodeStatus: &relaypb.NodeStatusEvent{StateChange: relaypb.NodeState_NODE_CONNECTED},
	}}
	for name, tc := range map[string]struct {
		msg        *observerpb.GetFlowsResponse
		at         time.Time
		nodeStatus bool
	}{
		"flow":             {flow, at, false},
		"node status":      {status, time.Time{}, true},
		"before the epoch": {&observerpb.GetFlowsResponse{Time: timestamppb.New(time.Unix(-5, 3))}, time.Unix(-5, 3), false},
	} {
		t.Run(name, func(t *testing.T) {
			wire, err := proto.Marshal(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			var r rawResponse
			if err := (rawCodec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, &r); err != nil {
				t.Fatal(err)
			}
			if !r.at.Equal(tc.at) || r.nodeStatus != tc.nodeStatus {
				t.Fatalf("parsed time %v status %v, want %v %v", r.at, r.nodeStatus, tc.at, tc.nodeStatus)
			}
			out, err := (rawCodec{}).Marshal(&r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Materialize(), wire) {
				t.Fatal("the forwarded bytes differ from the received ones")
			}
		})
	}
}

func TestRawCodecRejectsMalformedResponses(t *testing.T) {
	wire, err := proto.Marshal(&observerpb.GetFlowsResponse{Time: timestamppb.Now(), NodeName: "n"})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{wire[:len(wire)-1], {0xff}, wire[:3]} {
		var r rawResponse
		if err := (rawCodec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(bad)}, &r); err == nil {
			t.Errorf("accepted %x", bad)
		}
	}
}

func TestRawCodecEncodesOtherMessagesAsProtobuf(t *testing.T) {
	req := &observerpb.GetFlowsRequest{Number: 7, Follow: true}
	out, err := (rawCodec{}).Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var back observerpb.GetFlowsRequest
	if err := (rawCodec{}).Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(req, &back) {
		t.Fatalf("round trip gave %v", &back)
	}
}

// countingPool is a gRPC buffer pool that counts buffers given back.
type countingPool struct{ put int }

func (p *countingPool) Get(n int) *[]byte {
	b := make([]byte, n)
	return &b
}

func (p *countingPool) Put(*[]byte) { p.put++ }

func TestRawCodecKeepsReceivedBuffersUntilSent(t *testing.T) {
	// A pooled buffer (messages of 1 KiB and more) must not go back to
	// gRPC's pool while the response waits in the merge, and must once it
	// is sent.
	wire, err := proto.Marshal(&observerpb.GetFlowsResponse{
		Time:          timestamppb.Now(),
		ResponseTypes: &observerpb.GetFlowsResponse_Flow{Flow: &flowpb.Flow{Summary: strings.Repeat("x", 2048)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	pool := &countingPool{}
	data := append([]byte(nil), wire...)
	received := mem.BufferSlice{mem.NewBuffer(&data, pool)}
	var r rawResponse
	if err := (rawCodec{}).Unmarshal(received, &r); err != nil {
		t.Fatal(err)
	}
	received.Free() // as gRPC does when Unmarshal returns
	if pool.put != 0 {
		t.Fatal("the received buffer went back to the pool while the response waits")
	}
	out, err := (rawCodec{}).Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Materialize(), wire) {
		t.Fatal("the forwarded bytes differ from the received ones")
	}
	out.Free() // as gRPC does once the message is written
	if pool.put != 1 {
		t.Fatalf("buffers given back after sending: %d, want 1", pool.put)
	}
}

func TestRawCodecCopiesMessagesInSeveralBuffers(t *testing.T) {
	wire, err := proto.Marshal(&observerpb.GetFlowsResponse{Time: timestamppb.New(time.Unix(7, 8)), NodeName: "n"})
	if err != nil {
		t.Fatal(err)
	}
	var r rawResponse
	if err := (rawCodec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire[:5]), mem.SliceBuffer(wire[5:])}, &r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.data, wire) || !r.at.Equal(time.Unix(7, 8)) || r.buf != nil {
		t.Fatalf("parsed %x at %v", r.data, r.at)
	}
}
