package observer_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/foveanet/fovea/api/observer"
)

func TestGetAgentEvents(t *testing.T) {
	i := 0
	events := observer.NewAgentEvents(
		observer.WithAgentEventsCapacity(4),
		observer.WithAgentEventsClock(func() time.Time { return ts(i) }),
	)
	e := newEnv(t, 7, nil, observer.WithAgentEvents(events))
	for ; i < 6; i++ {
		events.Publish(agentStart(i))
	}
	collect := func(req *observerpb.GetAgentEventsRequest) ([]string, error) {
		stream, err := e.client.GetAgentEvents(context.Background(), req)
		if err != nil {
			return nil, err
		}
		var got []string
		for {
			resp, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return got, nil
			}
			if err != nil {
				return got, err
			}
			if resp.NodeName == "" || resp.Time == nil {
				t.Fatalf("response without node name or time: %v", resp)
			}
			got = append(got, resp.GetAgentEvent().GetUnknown().GetNotification())
		}
	}
	for _, tc := range []struct {
		name string
		req  *observerpb.GetAgentEventsRequest
		want []string
	}{
		// Capacity 4 keeps events c..f.
		{"all held", &observerpb.GetAgentEventsRequest{}, []string{"c", "d", "e", "f"}},
		{"last 2", &observerpb.GetAgentEventsRequest{Number: 2}, []string{"e", "f"}},
		{"first 2", &observerpb.GetAgentEventsRequest{Number: 2, First: true}, []string{"c", "d"}},
		{"since", &observerpb.GetAgentEventsRequest{Since: timestamppb.New(ts(4))}, []string{"e", "f"}},
		{"until", &observerpb.GetAgentEventsRequest{Until: timestamppb.New(ts(3))}, []string{"c", "d"}},
	} {
		got, err := collect(tc.req)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := collect(&observerpb.GetAgentEventsRequest{First: true, Follow: true}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("first+follow: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := e.client.GetAgentEvents(ctx, &observerpb.GetAgentEventsRequest{Follow: true, Number: 1})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil || resp.GetAgentEvent().GetUnknown().GetNotification() != "f" {
		t.Fatalf("first followed event: %v, %v", resp, err)
	}
	onlyNew, err := e.client.GetAgentEvents(ctx, &observerpb.GetAgentEventsRequest{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	// The new-only stream may not have looked at the source yet: publish
	// until it reports something, which must be new.
	got := make(chan string, 16)
	go func() {
		for {
			resp, err := onlyNew.Recv()
			if err != nil {
				close(got)
				return
			}
			got <- resp.GetAgentEvent().GetUnknown().GetNotification()
		}
	}()
	for i = 6; ; i++ {
		events.Publish(agentStart(i))
		select {
		case n := <-got:
			if n < "g" {
				t.Fatalf("new-only stream sent held event %s", n)
			}
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break
	}
	resp, err = stream.Recv()
	if err != nil || resp.GetAgentEvent().GetUnknown().GetNotification() != "g" {
		t.Fatalf("published event: %v, %v", resp, err)
	}
}

func TestGetDebugEvents(t *testing.T) {
	e := newEnv(t, 7, nil)
	stream, err := e.client.GetDebugEvents(context.Background(), &observerpb.GetDebugEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("non-follow stream: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	stream, err = e.client.GetDebugEvents(ctx, &observerpb.GetDebugEventsRequest{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("follow stream ended with %v before the client left", err)
	}
	stream, err = e.client.GetDebugEvents(context.Background(), &observerpb.GetDebugEventsRequest{First: true, Follow: true})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("first+follow: %v", err)
	}
}
