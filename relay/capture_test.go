package relay

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/foveanet/fovea/api/capture/capturepb"
	"github.com/foveanet/fovea/test/grpctest"
)

// fakeCaptureAgent answers Start with its packets, at the given offsets
// from base, then a watermark past them and its end; or with err.
type fakeCaptureAgent struct {
	capturepb.UnimplementedCaptureServer
	node    string
	offsets []time.Duration
	err     error
	// silent holds Start without an answer until the call ends.
	silent bool
}

// captureBase is in the future, so no packet is late enough to go before
// a quiet node spoke.
var captureBase = time.Now().Add(time.Hour)

func (a *fakeCaptureAgent) Start(req *capturepb.StartRequest, stream capturepb.Capture_StartServer) error {
	if a.err != nil {
		return a.err
	}
	if a.silent {
		<-stream.Context().Done()
		return stream.Context().Err()
	}
	send := func(ev *capturepb.CaptureEvent) error {
		ev.Node, ev.CaptureId = a.node, req.GetId()
		return stream.Send(ev)
	}
	_ = send(&capturepb.CaptureEvent{Event: &capturepb.CaptureEvent_Started{Started: &capturepb.Started{}}})
	_ = send(&capturepb.CaptureEvent{Event: &capturepb.CaptureEvent_Interface{Interface: &capturepb.Interface{Id: 0, Name: "prod/web@" + a.node}}})
	// One packet an event, as a node sends them when they trickle in.
	for _, off := range a.offsets {
		p := &capturepb.Packet{TimeUnixNano: captureBase.Add(off).UnixNano(), Data: []byte{1}, Length: 1}
		if err := send(&capturepb.CaptureEvent{Event: &capturepb.CaptureEvent_Packets{Packets: &capturepb.Packets{Packets: []*capturepb.Packet{p}}}}); err != nil {
			return err
		}
	}
	return send(&capturepb.CaptureEvent{Event: &capturepb.CaptureEvent_Ended{Ended: &capturepb.Ended{Reason: capturepb.EndReason_END_REASON_PACKETS}}})
}

func (a *fakeCaptureAgent) Stop(_ context.Context, req *capturepb.StopRequest) (*capturepb.StopResponse, error) {
	if a.err != nil {
		return nil, status.Error(codes.NotFound, "no such capture")
	}
	return &capturepb.StopResponse{Nodes: []string{a.node}}, nil
}

type staticNodes []NodeInfo

func (s staticNodes) Nodes() []NodeInfo        { return s }
func (s staticNodes) Changed() <-chan struct{} { return nil }

func captureRelay(t *testing.T, agents ...*fakeCaptureAgent) capturepb.CaptureClient {
	t.Helper()
	var nodes staticNodes
	for _, a := range agents {
		conn := grpctest.Serve(t, func(gs *grpc.Server) { capturepb.RegisterCaptureServer(gs, a) })
		nodes = append(nodes, NodeInfo{Peer: Peer{Name: a.node}, Available: true, Conn: conn})
	}
	srv := NewCaptureServer(nodes, slog.New(slog.DiscardHandler))
	conn := grpctest.Serve(t, func(gs *grpc.Server) { capturepb.RegisterCaptureServer(gs, srv) })
	return capturepb.NewCaptureClient(conn)
}

// TestCaptureFanOut merges two nodes' packets in time order, leaves out a
// node where nothing matched, and ends each node after its packets.
func TestCaptureFanOut(t *testing.T) {
	client := captureRelay(t,
		&fakeCaptureAgent{node: "default/node1", offsets: []time.Duration{1, 4, 5}},
		&fakeCaptureAgent{node: "default/node2", offsets: []time.Duration{2, 3, 6}},
		&fakeCaptureAgent{node: "default/node3", err: status.Error(codes.NotFound, "no pod matches")},
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := client.Start(ctx, &capturepb.StartRequest{Selector: &capturepb.Selector{PodSelector: "app=web"}})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	ended := map[string]bool{}
	ids := map[string]bool{}
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ids[ev.GetCaptureId()] = true
		for _, p := range ev.GetPackets().GetPackets() {
			if ended[ev.GetNode()] {
				t.Errorf("a packet of %s after its end", ev.GetNode())
			}
			order = append(order, strings.TrimPrefix(ev.GetNode(), "default/")+":"+time.Unix(0, p.GetTimeUnixNano()).Sub(captureBase).String())
		}
		if ev.GetEnded() != nil {
			ended[ev.GetNode()] = true
		}
		if ev.GetNode() == "default/node3" {
			t.Errorf("an event of the node where nothing matched: %v", ev)
		}
	}
	want := []string{"node1:1ns", "node2:2ns", "node2:3ns", "node1:4ns", "node1:5ns", "node2:6ns"}
	if !slices.Equal(order, want) {
		t.Errorf("packets %v, want %v", order, want)
	}
	if !ended["default/node1"] || !ended["default/node2"] {
		t.Errorf("ended nodes %v", ended)
	}
	if len(ids) != 1 || ids[""] {
		t.Errorf("capture ids %v, want the one the relay chose for every node", ids)
	}

	resp, err := client.Stop(ctx, &capturepb.StopRequest{Id: "x"})
	if err != nil || !slices.Equal(resp.GetNodes(), []string{"default/node1", "default/node2"}) {
		t.Errorf("Stop = %v, %v; want the two nodes that run it", resp, err)
	}
}

// TestCaptureFanOutErrors: a request every node refuses fails with the
// nodes' code; one no node matches is NotFound.
func TestCaptureFanOutErrors(t *testing.T) {
	bad := status.Error(codes.InvalidArgument, "filter: unexpected \")\"")
	for _, tc := range []struct {
		errs []error
		want codes.Code
	}{
		{[]error{bad, bad}, codes.InvalidArgument},
		{[]error{status.Error(codes.NotFound, "x"), status.Error(codes.NotFound, "y")}, codes.NotFound},
		{[]error{status.Error(codes.NotFound, "x"), status.Error(codes.ResourceExhausted, "busy")}, codes.ResourceExhausted},
	} {
		client := captureRelay(t, &fakeCaptureAgent{node: "n1", err: tc.errs[0]}, &fakeCaptureAgent{node: "n2", err: tc.errs[1]})
		stream, err := client.Start(context.Background(), &capturepb.StartRequest{})
		if err == nil {
			_, err = stream.Recv()
		}
		if status.Code(err) != tc.want {
			t.Errorf("nodes answering %v: %v, want %v", tc.errs, err, tc.want)
		}
	}
}

// TestCaptureMergeWaitsForQuietNodes: a packet waits for a node that sent
// nothing newer, until that node's watermark passes it or it is old.
func TestCaptureMergeWaitsForQuietNodes(t *testing.T) {
	var sent []string
	m := newCaptureMerge("c", func(ev *capturepb.CaptureEvent) error {
		for range ev.GetPackets().GetPackets() {
			sent = append(sent, ev.GetNode())
		}
		return nil
	})
	now := captureBase.Add(time.Second)
	m.now = func() time.Time { return now }
	m.node("a")
	m.node("b")
	pkt := func(node string, at time.Time) *capturepb.CaptureEvent {
		return &capturepb.CaptureEvent{Node: node, Event: &capturepb.CaptureEvent_Packets{Packets: &capturepb.Packets{Packets: []*capturepb.Packet{{TimeUnixNano: at.UnixNano()}}}}}
	}
	if err := m.add(pkt("a", now.Add(-10*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 0 {
		t.Fatalf("sent %v before b said anything", sent)
	}
	progress := &capturepb.CaptureEvent{Node: "b", Event: &capturepb.CaptureEvent_Progress{Progress: &capturepb.Progress{Watermark: timestamppb.New(now)}}}
	if err := m.add(progress); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sent, []string{"a"}) {
		t.Fatalf("sent %v once b's watermark passed a's packet", sent)
	}
	if err := m.add(pkt("a", now.Add(10*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	if err := m.flush(false); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sent, []string{"a", "a"}) {
		t.Fatalf("sent %v; a late packet goes after captureLateness", sent)
	}
}

// TestCaptureFanOutSkipsSilentNode: a node that does not answer within
// nodeCallTimeout takes no part; the others' capture goes on.
func TestCaptureFanOutSkipsSilentNode(t *testing.T) {
	client := captureRelay(t,
		&fakeCaptureAgent{node: "default/node1", offsets: []time.Duration{1, 2}},
		&fakeCaptureAgent{node: "default/node2", silent: true},
	)
	ctx, cancel := context.WithTimeout(context.Background(), 4*nodeCallTimeout)
	defer cancel()
	stream, err := client.Start(ctx, &capturepb.StartRequest{Selector: &capturepb.Selector{PodSelector: "app=web"}})
	if err != nil {
		t.Fatal(err)
	}
	packets := 0
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetNode() != "default/node1" {
			t.Errorf("an event of the silent node: %v", ev)
		}
		packets += len(ev.GetPackets().GetPackets())
	}
	if packets != 2 {
		t.Errorf("%d packets, want node1's 2", packets)
	}
}
