package observer

import (
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// GetDebugEvents serves no events: the agent has no datapath debug events.
// A following stream stays open until the client leaves, as it would on an
// agent that simply has none yet.
func (s *Server) GetDebugEvents(req *observerpb.GetDebugEventsRequest, stream grpc.ServerStreamingServer[observerpb.GetDebugEventsResponse]) error {
	if _, err := validate(req); err != nil {
		return err
	}
	if !req.GetFollow() {
		return nil
	}
	<-stream.Context().Done()
	return status.FromContextError(stream.Context().Err()).Err()
}
