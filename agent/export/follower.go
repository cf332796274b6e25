package export

import (
	"context"
	"errors"
	"time"

	relaypb "github.com/cilium/cilium/api/v1/relay"

	"github.com/foveanet/fovea/api/fieldmask"
	"github.com/foveanet/fovea/api/filters"
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/ringbuffer"
)

// readBatch is how many records a follower reads between looks at the
// clock and its context.
const readBatch = 256

// follower reads the ring behind its writer for one exporter.
type follower struct {
	ring   *ringbuffer.Ring[record.Record]
	node   *flowview.Node
	filter filters.Func
	mask   *fieldmask.Mask
	end    time.Time // zero: never
	sink   Sink
	status *Status
	now    func() time.Time
	// start is the sequence number of the first record to read.
	start uint64

	ev   flowview.Flow
	rec  record.Record
	lost lostCounter
}

// run follows the ring until ctx ends or the end time passes, between a
// node status saying the export started and one saying why it stopped.
func (f *follower) run(ctx context.Context) {
	f.sink.NodeStatus(f.now(), f.nodeStatus(relaypb.NodeState_NODE_CONNECTED, "flow export started"))
	why := f.follow(ctx)
	now := f.now()
	if f.lost.count > 0 {
		f.sink.Lost(now, f.lost.take(now))
	}
	f.sink.NodeStatus(now, f.nodeStatus(relaypb.NodeState_NODE_UNAVAILABLE, "flow export stopped: "+why))
}

// follow exports records until ctx ends or the end time passes, and says
// which.
func (f *follower) follow(ctx context.Context) (why string) {
	rd := f.ring.NewReader(f.start)
	next := f.start
	f.lost.sent = f.now()
	for ctx.Err() == nil {
		caughtUp := false
		for range readBatch {
			seq, lost, err := rd.Next(ctx, &f.rec, false)
			if lost > 0 {
				f.lost.add(lost, f.now())
				f.status.Dropped(ReasonOverwritten, lost, nil)
			}
			if err != nil {
				// ErrNotWritten: nothing more to read for now.
				caughtUp = true
				break
			}
			next = seq + 1
			if f.ended(time.Unix(0, f.rec.Time)) {
				return "its end passed"
			}
			f.record(seq)
		}
		now := f.now()
		if f.ended(now) {
			return "its end passed"
		}
		if due := f.lost.dueAt(); !due.IsZero() && !now.Before(due) {
			f.sink.Lost(now, f.lost.take(now))
		}
		if caughtUp {
			wake := f.sink.Idle(now)
			f.wait(ctx, next, earliest(wake, f.lost.dueAt(), f.end))
		}
	}
	var r stopReason
	if errors.As(context.Cause(ctx), &r) {
		return string(r)
	}
	return "the agent is stopping"
}

// stopReason is why the manager stopped an exporter, as its context's
// cause.
type stopReason string

func (r stopReason) Error() string { return string(r) }

func (f *follower) ended(t time.Time) bool { return !f.end.IsZero() && !t.Before(f.end) }

func (f *follower) nodeStatus(state relaypb.NodeState, msg string) *relaypb.NodeStatusEvent {
	return &relaypb.NodeStatusEvent{StateChange: state, NodeNames: []string{f.node.AbsoluteName()}, Message: msg}
}

// record exports the record at seq, copied into f.rec, if it passes.
func (f *follower) record(seq uint64) {
	f.ev.Reset(f.node, &f.rec, seq)
	if f.ev.IsLost() {
		f.sink.Lost(f.ev.Time(), f.ev.Lost())
		return
	}
	if !f.filter(&f.ev) {
		return
	}
	f.sink.Flow(&f.ev, f.mask.Apply(f.ev.Flow()))
}

// wait blocks until the record at seq is written, deadline passes (if not
// zero) or ctx ends.
func (f *follower) wait(ctx context.Context, seq uint64, deadline time.Time) {
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	_ = f.ring.Wait(ctx, seq) // any wake-up only means it is time to look again
}

// earliest returns the earliest of the non-zero times, or zero.
func earliest(ts ...time.Time) time.Time {
	var first time.Time
	for _, t := range ts {
		if !t.IsZero() && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	return first
}
