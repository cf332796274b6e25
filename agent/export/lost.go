package export

import (
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// lostEvery spaces the LostEvents an exporter writes about itself, as a
// GetFlows stream spaces its own.
const lostEvery = time.Second

// lostCounter aggregates the records the writer overwrote before the
// exporter read them, to be written as one LostEvent per interval.
type lostCounter struct {
	count       uint64
	first, last time.Time
	sent        time.Time
}

func (l *lostCounter) add(n uint64, now time.Time) {
	if l.count == 0 {
		l.first = now
	}
	l.count += n
	l.last = now
}

// dueAt is when a pending count may be written, zero if none is pending.
func (l *lostCounter) dueAt() time.Time {
	if l.count == 0 {
		return time.Time{}
	}
	return l.sent.Add(lostEvery)
}

// take returns the pending count as a LostEvent and resets the counter.
func (l *lostCounter) take(now time.Time) *flowpb.LostEvent {
	ev := &flowpb.LostEvent{
		Source:        flowpb.LostEventSource_HUBBLE_RING_BUFFER,
		NumEventsLost: l.count,
		First:         timestamppb.New(l.first),
		Last:          timestamppb.New(l.last),
	}
	l.count, l.sent = 0, now
	return ev
}
