package relay

import (
	"context"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func resp(ms int) *observerpb.GetFlowsResponse {
	return &observerpb.GetFlowsResponse{Time: timestamppb.New(at(ms))}
}

// runMerger runs a merger over items and returns the times sent, in ms.
func runMerger(t *testing.T, bufLen int, drain time.Duration, items []item) []int {
	t.Helper()
	var got []int
	m := newMerger(bufLen, drain, func(msg any) error {
		got = append(got, int(msg.(*observerpb.GetFlowsResponse).GetTime().AsTime().Sub(t0)/time.Millisecond))
		return nil
	})
	go func() {
		for _, it := range items {
			m.in <- it
		}
		close(m.in)
	}()
	if err := m.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return got
}

func respItem(call uint64, ms int) item {
	return item{kind: kindResponse, call: call, msg: resp(ms), at: at(ms)}
}

func TestMergerWaitsForEveryActiveNode(t *testing.T) {
	items := []item{
		{kind: kindStart, call: 1}, {kind: kindStart, call: 2},
		respItem(1, 5), respItem(1, 6), respItem(1, 7),
		respItem(2, 1), respItem(2, 8),
		{kind: kindEnd, call: 2},
		respItem(1, 9), {kind: kindEnd, call: 1},
	}
	got := runMerger(t, 100, time.Hour, items)
	want := []int{1, 5, 6, 7, 8, 9}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestMergerBufferIsBounded(t *testing.T) {
	// b is active but silent, so only the buffer bound lets a's responses
	// through.
	sent := make(chan any, 100)
	m := newMerger(3, time.Hour, func(msg any) error { sent <- msg; return nil })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.run(ctx)
	m.in <- item{kind: kindStart, call: 1}
	m.in <- item{kind: kindStart, call: 2}
	for i := range 10 {
		m.in <- respItem(1, i)
	}
	barrier := nodeStatus(time.Now(), 0, "barrier")
	m.in <- item{kind: kindStatus, msg: barrier}
	flows := 0
	for r := range sent {
		if r == any(barrier) {
			break
		}
		flows++
	}
	if flows != 8 {
		t.Fatalf("sent %d responses before the barrier; want the 10 but the 2 left in a buffer of 3", flows)
	}
}

func TestMergerDrainsQuietNodes(t *testing.T) {
	sent := make(chan int, 10)
	m := newMerger(100, 50*time.Millisecond, func(msg any) error {
		sent <- int(msg.(*observerpb.GetFlowsResponse).GetTime().AsTime().Sub(t0) / time.Millisecond)
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.run(ctx)
	m.in <- item{kind: kindStart, call: 1}
	m.in <- item{kind: kindStart, call: 2}
	start := time.Now()
	m.in <- respItem(1, 1)
	select {
	case ms := <-sent:
		if ms != 1 || time.Since(start) < 50*time.Millisecond {
			t.Fatalf("sent %d after %v", ms, time.Since(start))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a response waiting for a quiet node was never sent")
	}
}
