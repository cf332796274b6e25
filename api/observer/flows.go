package observer

import (
	"context"
	"errors"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/foveanet/fovea/api/fieldmask"
	"github.com/foveanet/fovea/api/filters"
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

// ctxCheckEvery is how many records a stream reads between checks that its
// client is still there; sends notice a gone client anyway, but a filter
// matching nothing never sends.
const ctxCheckEvery = 256

// flowQuery is a validated GetFlowsRequest.
type flowQuery struct {
	number        uint64
	first, follow bool
	rng           timeRange
	filter        filters.Func
	mask          *fieldmask.Mask
}

func parseFlowsRequest(req *observerpb.GetFlowsRequest, buildFilter FilterBuilder) (*flowQuery, error) {
	rng, err := validate(req)
	if err != nil {
		return nil, err
	}
	filter, err := buildFilter(req.GetWhitelist(), req.GetBlacklist())
	if err != nil {
		return nil, invalid("filters: %v", err)
	}
	mask, err := fieldmask.FromProto(req.GetFieldMask())
	if err != nil {
		return nil, invalid("field_mask: %v", err)
	}
	return &flowQuery{
		number: req.GetNumber(),
		first:  req.GetFirst(),
		follow: req.GetFollow(),
		rng:    rng,
		filter: filter,
		mask:   mask,
	}, nil
}

// ValidateFlowsRequest returns, as InvalidArgument naming the field, what an
// agent would reject in req before streaming: a relay checks once instead of
// collecting the same error from every node.
func ValidateFlowsRequest(req *observerpb.GetFlowsRequest) error {
	_, err := parseFlowsRequest(req, defaultFilterBuilder)
	return err
}

// GetFlows streams the ring's flows matching the request, oldest first.
func (s *Server) GetFlows(req *observerpb.GetFlowsRequest, stream grpc.ServerStreamingServer[observerpb.GetFlowsResponse]) error {
	q, err := parseFlowsRequest(req, s.buildFilter)
	if err != nil {
		return err
	}
	fs := &flowStream{
		Server: s,
		q:      q,
		stream: stream,
		lost:   newLostCounter(s.lostInterval, s.now()),
	}
	return fs.run(stream.Context())
}

// flowStream serves one GetFlows call.
type flowStream struct {
	*Server
	q      *flowQuery
	stream grpc.ServerStreamingServer[observerpb.GetFlowsResponse]
	lost   *lostCounter
	ev     flowview.Flow
	rec    record.Record
}

func (fs *flowStream) run(ctx context.Context) error {
	head := fs.ring.Head()
	cur := cursor{ring: fs.ring, seq: fs.startSeq(head)}
	var sent uint64
	for n := 0; ; n++ {
		if !fs.q.follow && cur.seq >= head {
			break
		}
		if n%ctxCheckEvery == 0 && ctx.Err() != nil {
			return status.FromContextError(ctx.Err()).Err()
		}
		now := fs.now()
		if fs.lost.due(now) {
			if err := fs.sendLost(now); err != nil {
				return err
			}
		}
		seq, lost, err := cur.next(&fs.rec)
		if lost > 0 {
			fs.lost.add(lost, now)
		}
		if errors.Is(err, errCaughtUp) {
			if !fs.q.follow {
				break
			}
			if done, err := fs.wait(ctx, cur.seq); done || err != nil {
				return err
			}
			continue
		}
		if err != nil {
			fs.log.Error("GetFlows stopped", "error", err)
			return status.Error(codes.Internal, err.Error())
		}
		if !fs.q.follow && seq >= head {
			break // overtaken past the end this stream started with
		}
		fs.ev.Reset(fs.node, &fs.rec, seq)
		if fs.ev.IsLost() {
			if err := fs.sendUpstreamLost(); err != nil {
				return err
			}
			continue
		}
		t := fs.ev.Time()
		if fs.q.rng.after(t) {
			break
		}
		if fs.q.rng.before(t) || !fs.q.filter(&fs.ev) {
			continue
		}
		if err := fs.sendFlow(); err != nil {
			return err
		}
		sent++
		if !fs.q.follow && fs.q.number > 0 && sent >= fs.q.number {
			break
		}
	}
	if fs.lost.pending() {
		return fs.sendLost(fs.now())
	}
	return nil
}

// startSeq finds where the stream starts: the oldest record when asked for
// the first flows or all of them, the head when following only new flows,
// the first record at or after since when given, else as far back as the
// number of matching flows requires.
func (fs *flowStream) startSeq(head uint64) uint64 {
	q, tail := fs.q, fs.ring.Tail()
	switch {
	case !q.rng.since.IsZero():
		return searchTime(fs.ring, tail, head, q.rng.since.UnixNano())
	case q.first || q.number == 0 && !q.follow:
		return tail
	case q.number == 0:
		return head
	}
	start := head
	var matched uint64
	for seq := head; seq > tail && matched < q.number; seq-- {
		if fs.ring.Read(seq-1, &fs.rec) != nil {
			break // overwritten: nothing older is left
		}
		start = seq - 1
		if fs.rec.Kind == record.KindLost || q.rng.after(time.Unix(0, fs.rec.Time)) {
			continue
		}
		fs.ev.Reset(fs.node, &fs.rec, seq-1)
		if q.filter(&fs.ev) {
			matched++
		}
	}
	return start
}

// wait blocks a following stream until the record at seq is written, a
// pending loss report falls due, or the range's end passes. done reports
// that the stream is over.
func (fs *flowStream) wait(ctx context.Context, seq uint64) (done bool, err error) {
	now := fs.now()
	if fs.q.rng.after(now) {
		if fs.lost.pending() {
			return true, fs.sendLost(now)
		}
		return true, nil
	}
	var deadline time.Time
	if fs.lost.pending() {
		deadline = fs.lost.dueAt()
	}
	if until := fs.q.rng.until; !until.IsZero() && (deadline.IsZero() || until.Before(deadline)) {
		deadline = until.Add(time.Nanosecond)
	}
	waitCtx, cancel := ctx, context.CancelFunc(func() {})
	if !deadline.IsZero() {
		waitCtx, cancel = context.WithTimeout(ctx, deadline.Sub(now))
	}
	defer cancel()
	_ = fs.ring.Wait(waitCtx, seq) // a timeout only means it is time to look again
	if ctx.Err() != nil {
		return true, status.FromContextError(ctx.Err()).Err()
	}
	return false, nil
}

func (fs *flowStream) sendFlow() error {
	f := fs.ev.Flow()
	name := f.GetNodeName()
	if name == "" {
		name = fs.nodeName
	}
	return fs.stream.Send(&observerpb.GetFlowsResponse{
		Time:          f.GetTime(),
		NodeName:      name,
		ResponseTypes: &observerpb.GetFlowsResponse_Flow{Flow: fs.q.mask.Apply(f)},
	})
}

// sendUpstreamLost forwards a loss recorded by a stage before the ring.
func (fs *flowStream) sendUpstreamLost() error {
	return fs.stream.Send(&observerpb.GetFlowsResponse{
		Time:          timestamppb.New(fs.ev.Time()),
		NodeName:      fs.nodeName,
		ResponseTypes: &observerpb.GetFlowsResponse_LostEvents{LostEvents: fs.ev.Lost()},
	})
}

// sendLost reports the records the ring overwrote before this stream read
// them.
func (fs *flowStream) sendLost(now time.Time) error {
	lost := fs.lost.take(now)
	fs.streamLost.Add(lost.GetNumEventsLost())
	return fs.stream.Send(&observerpb.GetFlowsResponse{
		Time:          timestamppb.New(now),
		NodeName:      fs.nodeName,
		ResponseTypes: &observerpb.GetFlowsResponse_LostEvents{LostEvents: lost},
	})
}
