package observer

import (
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// GetAgentEvents streams agent events with the same number, first, follow
// and time-range semantics as GetFlows.
func (s *Server) GetAgentEvents(req *observerpb.GetAgentEventsRequest, stream grpc.ServerStreamingServer[observerpb.GetAgentEventsResponse]) error {
	rng, err := validate(req)
	if err != nil {
		return err
	}
	ctx := stream.Context()
	if s.agentEvents == nil {
		if !req.GetFollow() {
			return nil
		}
		<-ctx.Done()
		return status.FromContextError(ctx.Err()).Err()
	}
	held, _ := s.agentEvents.Since(0)
	batch := pickAgentEvents(held, req, rng)
	// next is the first event not yet considered: new events only, unless
	// the request picked some of the held ones.
	var next uint64
	if n := len(held); n > 0 {
		next = held[n-1].Seq + 1
	}
	if len(batch) > 0 {
		next = batch[0].Seq
	}
	for {
		for _, e := range batch {
			if rng.after(e.Time) {
				return nil
			}
			if e.Seq > next {
				s.log.Warn("GetAgentEvents stream missed evicted events", "count", e.Seq-next)
			}
			next = e.Seq + 1
			if rng.before(e.Time) {
				continue
			}
			if err := stream.Send(&observerpb.GetAgentEventsResponse{
				Time:       timestamppb.New(e.Time),
				NodeName:   s.nodeName,
				AgentEvent: e.Event,
			}); err != nil {
				return err
			}
		}
		if !req.GetFollow() {
			return nil
		}
		var changed <-chan struct{}
		for batch, changed = s.agentEvents.Since(next); len(batch) == 0; batch, changed = s.agentEvents.Since(next) {
			select {
			case <-ctx.Done():
				return status.FromContextError(ctx.Err()).Err()
			case <-changed:
			}
		}
	}
}

// pickAgentEvents selects where a request starts among the held events.
func pickAgentEvents(events []AgentEvent, req eventRequest, rng timeRange) []AgentEvent {
	n := req.GetNumber()
	switch {
	case !rng.since.IsZero():
		i := 0
		for i < len(events) && rng.before(events[i].Time) {
			i++
		}
		events = events[i:]
		if !req.GetFollow() && n > 0 && uint64(len(events)) > n {
			events = events[:n]
		}
	case req.GetFirst():
		if n > 0 && uint64(len(events)) > n {
			events = events[:n]
		}
	case n == 0 && req.GetFollow():
		events = nil
	case n > 0:
		kept := events[:0:0]
		for i := len(events) - 1; i >= 0 && uint64(len(kept)) < n; i-- {
			if !rng.after(events[i].Time) {
				kept = append(kept, events[i])
			}
		}
		// kept is newest first and excludes the range's end; restore order.
		for i, j := 0, len(kept)-1; i < j; i, j = i+1, j-1 {
			kept[i], kept[j] = kept[j], kept[i]
		}
		events = kept
	}
	return events
}
