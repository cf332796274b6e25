package export

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	relaypb "github.com/cilium/cilium/api/v1/relay"

	"github.com/foveanet/fovea/api/filters"
	"github.com/foveanet/fovea/model/flowview"
)

// gateSink blocks in Flow until its gate is opened and records what it
// was given.
type gateSink struct {
	gate    chan struct{}
	entered chan struct{} // closed when Flow is first called
	once    sync.Once

	mu       sync.Mutex
	flows    int
	lost     []*flowpb.LostEvent
	statuses []relaypb.NodeState
}

func newGateSink() *gateSink {
	return &gateSink{gate: make(chan struct{}), entered: make(chan struct{})}
}

func (s *gateSink) Flow(*flowview.Flow, *flowpb.Flow) {
	s.once.Do(func() { close(s.entered) })
	<-s.gate
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flows++
}

func (s *gateSink) Lost(_ time.Time, l *flowpb.LostEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lost = append(s.lost, l)
}

func (s *gateSink) NodeStatus(_ time.Time, st *relaypb.NodeStatusEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses = append(s.statuses, st.GetStateChange())
}

func (s *gateSink) Idle(time.Time) time.Time { return time.Time{} }
func (s *gateSink) Close() error             { return nil }

// counts returns the flows written and the ring-buffer losses reported.
func (s *gateSink) counts() (flows int, lost uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lost {
		if l.GetSource() == flowpb.LostEventSource_HUBBLE_RING_BUFFER {
			lost += l.GetNumEventsLost()
		}
	}
	return s.flows, lost
}

// TestFollowerBehindLosesAndCounts stalls an exporter's sink while the
// writer laps the ring many times: the writes complete regardless, and
// the exporter accounts for every record as written or lost, in its
// counts and in the LostEvents it writes.
func TestFollowerBehindLosesAndCounts(t *testing.T) {
	e := newEnv(t, 15)
	sink := newGateSink()
	var n notes
	st := newStatus("test", slog.New(slog.DiscardHandler), n.notify, time.Now)
	f := &follower{ring: e.ring, node: e.node, filter: func(*flowview.Flow) bool { return true },
		sink: sink, status: st, now: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.run(ctx)
	}()
	e.write(1)
	<-sink.entered // the follower is stuck in the sink with record 0
	const total = 1000
	e.write(total - 1) // never waits for the follower
	close(sink.gate)
	eventually(t, "every record written or counted lost", func() bool {
		flows, _ := sink.counts()
		return uint64(flows)+st.dropped[ReasonOverwritten].Load() == total
	})
	cancel()
	<-done
	flows, lost := sink.counts()
	dropped := st.dropped[ReasonOverwritten].Load()
	if lost != dropped || dropped < total-16-1 {
		t.Errorf("wrote %d flows, counted %d lost and reported %d in LostEvents; want at least %d lost, reported as counted",
			flows, dropped, lost, total-16-1)
	}
	if got := n.get(); len(got) == 0 || got[0] != "export_dropped" {
		t.Errorf("agent events %q, want export_dropped first", got)
	}
	if !st.healthy.Load() {
		t.Error("losses to the ring made the exporter unhealthy; only sink failures do")
	}
	want := []relaypb.NodeState{relaypb.NodeState_NODE_CONNECTED, relaypb.NodeState_NODE_UNAVAILABLE}
	if len(sink.statuses) != 2 || sink.statuses[0] != want[0] || sink.statuses[1] != want[1] {
		t.Errorf("node statuses %v, want %v", sink.statuses, want)
	}
}

// TestFollowerStopsAtEnd stops an exporter whose end time has passed
// while it waits for records.
func TestFollowerStopsAtEnd(t *testing.T) {
	e := newEnv(t, 15)
	sink := newGateSink()
	close(sink.gate)
	st := newStatus("test", slog.New(slog.DiscardHandler), func(string, string) {}, time.Now)
	filter, err := filters.Build(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &follower{ring: e.ring, node: e.node, filter: filter, sink: sink, status: st, now: time.Now,
		end: time.Now().Add(200 * time.Millisecond)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.run(context.Background())
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the follower outlived its end by 10s")
	}
}
