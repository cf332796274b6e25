package relay

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func resp(ms int) *observerpb.GetFlowsResponse {
	return &observerpb.GetFlowsResponse{Time: timestamppb.New(at(ms))}
}

func respItem(ms int) item {
	return item{msg: resp(ms), at: at(ms).UnixNano()}
}

func sentMs(msg any) int {
	return int(msg.(*observerpb.GetFlowsResponse).GetTime().AsTime().Sub(t0) / time.Millisecond)
}

func testMerger(t *testing.T, bufLen int, drain time.Duration, send func(any) error) *merger {
	t.Helper()
	return newMerger(bufLen, drain, new(Metrics), send)
}

// runMerger runs a merger until close and returns the times sent, in ms.
func runMerger(t *testing.T, m *merger, feed func()) []int {
	t.Helper()
	var got []int
	m.send = func(msg any) error {
		got = append(got, sentMs(msg))
		return nil
	}
	go func() {
		feed()
		m.close()
	}()
	if err := m.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return got
}

func put(t *testing.T, q *callQueue, ms ...int) {
	t.Helper()
	for _, v := range ms {
		if !q.put(context.Background(), respItem(v)) {
			t.Error("put failed")
		}
	}
}

func TestMergerWaitsForEveryActiveNode(t *testing.T) {
	m := testMerger(t, 100, time.Hour, nil)
	got := runMerger(t, m, func() {
		a, b := m.newCall(), m.newCall()
		put(t, a, 5, 6, 7)
		put(t, b, 1, 8)
		b.end()
		put(t, a, 9)
		a.end()
	})
	if want := []int{1, 5, 6, 7, 8, 9}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestMergerOrdersInterleavedNodes(t *testing.T) {
	// Each node delivers its times in order, interleaved at random with
	// the others' and handed over in batches of every size; the merge must
	// send everything oldest first. (A node's inversions are sorted only
	// within what the merger holds at once, which depends on scheduling:
	// the input is kept in order per node so the outcome does not.)
	m := testMerger(t, 10_000, time.Hour, nil)
	var want []int
	got := runMerger(t, m, func() {
		calls := make([]*callQueue, 7)
		for i := range calls {
			calls[i] = m.newCall()
		}
		rnd := rand.New(rand.NewPCG(1, 2))
		for i := range 3000 {
			ms := i*3 + rnd.IntN(3)
			want = append(want, ms)
			put(t, calls[rnd.IntN(len(calls))], ms)
		}
		for _, q := range calls {
			q.end()
		}
	})
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("sent %d responses out of order or lost some (want %d)", len(got), len(want))
	}
}

func TestMergerBufferIsBounded(t *testing.T) {
	// b is active but silent, so only the buffer bound lets a's responses
	// through.
	sent := make(chan any, 100)
	m := testMerger(t, 3, time.Hour, func(msg any) error { sent <- msg; return nil })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.run(ctx)
	a, _ := m.newCall(), m.newCall()
	for i := range 10 {
		put(t, a, i)
	}
	deadline := time.After(5 * time.Second)
	for i := range 8 {
		select {
		case msg := <-sent:
			if sentMs(msg) != i {
				t.Fatalf("sent %d, want %d", sentMs(msg), i)
			}
		case <-deadline:
			t.Fatalf("sent %d responses; want the 10 but the 2 left in a buffer of 3", i)
		}
	}
	select {
	case msg := <-sent:
		t.Fatalf("sent %d beyond the bound", sentMs(msg))
	case <-time.After(100 * time.Millisecond):
	}
	if got := m.metrics.forcedFull.Load(); got != 8 {
		t.Fatalf("counted %v sends forced by a full buffer, want 8", got)
	}
}

func TestMergerDrainsQuietNodes(t *testing.T) {
	sent := make(chan int, 10)
	m := testMerger(t, 100, 50*time.Millisecond, func(msg any) error { sent <- sentMs(msg); return nil })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.run(ctx)
	a, _ := m.newCall(), m.newCall()
	start := time.Now()
	put(t, a, 1)
	select {
	case ms := <-sent:
		if ms != 1 || time.Since(start) < 50*time.Millisecond {
			t.Fatalf("sent %d after %v", ms, time.Since(start))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a response waiting for a quiet node was never sent")
	}
	// emit counts a batch's sends once the batch is out, just after the send.
	deadline := time.Now().Add(5 * time.Second)
	for m.metrics.forcedDrain.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("counted %v sends forced by the drain timeout, want 1", m.metrics.forcedDrain.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestMergerSendsStatusesBeforeLaterCalls(t *testing.T) {
	// A status queued before a call starts reaches the client before the
	// call's responses, whatever the merger sees first.
	for range 200 {
		var got []any
		m := testMerger(t, 100, time.Hour, func(msg any) error { got = append(got, msg); return nil })
		status := nodeStatus(time.Now(), 0, "connected")
		go func() {
			m.status(context.Background(), status)
			q := m.newCall()
			put(t, q, 1)
			q.end()
			m.close()
		}()
		if err := m.run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0] != any(status) {
			t.Fatalf("sent %v", got)
		}
	}
}

func TestCallQueueWaitsForTheMerger(t *testing.T) {
	// A call hands over at most queueLen responses before the merger takes
	// them, and stops waiting when its context ends.
	m := testMerger(t, 100, time.Hour, nil)
	q := m.newCall()
	put(t, q, make([]int, queueLen)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan bool)
	go func() { done <- q.put(ctx, respItem(0)) }()
	select {
	case <-done:
		t.Fatal("a call handed over more than a batch")
	case <-time.After(50 * time.Millisecond):
	}
	m.take(time.Now())
	if ok := <-done; !ok {
		t.Fatal("a call waiting for room failed once the merger took its batch")
	}
	put(t, q, make([]int, queueLen-1)...)
	go func() { done <- q.put(ctx, respItem(0)) }()
	cancel()
	if ok := <-done; ok {
		t.Fatal("put succeeded on a full queue after its context ended")
	}
}
