package relay

import (
	"fmt"
	"net"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	protobuf "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The merge benchmark isolates the relays' own cost: agents replay flows
// encoded once up front, and the client counts flows without decoding them,
// so nearly all CPU left is the relay's. BenchmarkRelayGetFlows measures the
// whole pipeline with real agents instead.

// syntheticAgent serves a fixed list of GetFlows responses, pre-encoded.
type syntheticAgent struct {
	observerpb.UnimplementedObserverServer
	name, addr string
	resps      []*observerpb.GetFlowsResponse
}

func (a *syntheticAgent) peer() Peer { return Peer{Name: a.name, Address: a.addr} }

func (a *syntheticAgent) GetFlows(_ *observerpb.GetFlowsRequest, s grpc.ServerStreamingServer[observerpb.GetFlowsResponse]) error {
	for _, r := range a.resps {
		if err := s.Send(r); err != nil {
			return err
		}
	}
	return nil
}

// newSyntheticAgent serves benchFlowsPerNode realistic L4 flows whose times
// interleave with those of the other n-1 agents.
func newSyntheticAgent(b *testing.B, i, n int) *syntheticAgent {
	b.Helper()
	a := &syntheticAgent{name: fmt.Sprintf("default/node%d", i)}
	enc := preEncoded{bytes: map[*observerpb.GetFlowsResponse][]byte{}}
	start := time.Now().Add(-time.Hour)
	for j := range benchFlowsPerNode {
		at := timestamppb.New(start.Add(time.Duration(j*n+i) * time.Microsecond))
		r := &observerpb.GetFlowsResponse{Time: at, NodeName: a.name, ResponseTypes: &observerpb.GetFlowsResponse_Flow{Flow: &flowpb.Flow{
			Time: at, NodeName: a.name, Verdict: flowpb.Verdict_FORWARDED, Type: flowpb.FlowType_L3_L4,
			IP:          &flowpb.IP{Source: "10.0.0.1", Destination: "10.0.0.2", IpVersion: flowpb.IPVersion_IPv4},
			L4:          &flowpb.Layer4{Protocol: &flowpb.Layer4_TCP{TCP: &flowpb.TCP{SourcePort: uint32(30000 + j), DestinationPort: 80, Flags: &flowpb.TCPFlags{SYN: true}}}},
			Source:      &flowpb.Endpoint{Identity: 1001, Namespace: "demo", PodName: "client", Labels: []string{"k8s:app=client", "k8s:io.kubernetes.pod.namespace=demo"}},
			Destination: &flowpb.Endpoint{Identity: 1002, Namespace: "demo", PodName: "server", Labels: []string{"k8s:app=server", "k8s:io.kubernetes.pod.namespace=demo"}},
			EventType:   &flowpb.CiliumEventType{Type: 4}, Summary: "TCP Flags: SYN",
		}}}
		data, err := protobuf.Marshal(r)
		if err != nil {
			b.Fatal(err)
		}
		a.resps, enc.bytes[r] = append(a.resps, r), data
	}
	enc.fallback = encoding.GetCodecV2(proto.Name)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer(grpc.ForceServerCodecV2(enc))
	observerpb.RegisterObserverServer(srv, a)
	go srv.Serve(lis)
	b.Cleanup(srv.Stop)
	a.addr = lis.Addr().String()
	return a
}

// preEncoded sends responses it was given the encoding of as those bytes.
type preEncoded struct {
	bytes    map[*observerpb.GetFlowsResponse][]byte
	fallback encoding.CodecV2
}

func (c preEncoded) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(*observerpb.GetFlowsResponse); ok {
		if data, ok := c.bytes[r]; ok {
			return mem.BufferSlice{mem.SliceBuffer(data)}, nil
		}
	}
	return c.fallback.Marshal(v)
}

func (c preEncoded) Unmarshal(data mem.BufferSlice, v any) error {
	return c.fallback.Unmarshal(data, v)
}

func (preEncoded) Name() string { return proto.Name }

// flowCounter decodes only whether a response is a flow (field 1 of
// GetFlowsResponse), skipping over the other top-level fields.
type flowCounter struct{}

var counted = &observerpb.GetFlowsResponse_Flow{Flow: &flowpb.Flow{}}

func (flowCounter) Marshal(v any) (mem.BufferSlice, error) {
	return encoding.GetCodecV2(proto.Name).Marshal(v)
}

func (flowCounter) Unmarshal(data mem.BufferSlice, v any) error {
	r, ok := v.(*observerpb.GetFlowsResponse)
	if !ok {
		return encoding.GetCodecV2(proto.Name).Unmarshal(data, v)
	}
	r.ResponseTypes = nil
	b := data.Materialize()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		if num == 1 {
			r.ResponseTypes = counted
			return nil
		}
		b = b[n:]
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil
}

func (flowCounter) Name() string { return proto.Name }

// BenchmarkRelayMerge measures merged flows per second through one GetFlows
// over every node, with synthetic agents and a client that does not decode,
// for both relays in the same run.
func BenchmarkRelayMerge(b *testing.B) {
	for _, n := range benchNodes {
		agents := make([]*syntheticAgent, n)
		for i := range agents {
			agents[i] = newSyntheticAgent(b, i, n)
		}
		fovea, cilium := flowCountingClient(b, foveaRelay(b, agents)), flowCountingClient(b, ciliumRelay(b, agents))
		direct := directClients(b, agents, grpc.ForceCodecV2(flowCounter{}))
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			compareGetFlows(b, fovea, cilium, direct)
		})
	}
}

// flowCountingClient is a client of r that does not decode flows.
func flowCountingClient(b *testing.B, r benchRelay) observerpb.ObserverClient {
	conn, err := grpc.NewClient(r.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(flowCounter{})))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return observerpb.NewObserverClient(conn)
}
