package observer

import (
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// lostCounter aggregates the ring-buffer losses of one stream so that they
// are reported at most once per interval.
type lostCounter struct {
	interval    time.Duration
	count       uint64
	first, last time.Time
	sent        time.Time
}

func newLostCounter(interval time.Duration, now time.Time) *lostCounter {
	return &lostCounter{interval: interval, sent: now}
}

func (l *lostCounter) add(n uint64, now time.Time) {
	if l.count == 0 {
		l.first = now
	}
	l.count += n
	l.last = now
}

func (l *lostCounter) pending() bool { return l.count > 0 }

// dueAt is when a pending count may next be reported.
func (l *lostCounter) dueAt() time.Time { return l.sent.Add(l.interval) }

func (l *lostCounter) due(now time.Time) bool { return l.pending() && !now.Before(l.dueAt()) }

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
