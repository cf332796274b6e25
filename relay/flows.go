package relay

import (
	"context"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/foveanet/fovea/api/observer"
)

// GetFlows validates the request once, then streams every available node's
// matching flows merged oldest first, with node_status events saying which
// nodes contribute. Nodes failing or leaving are reported, never ending the
// stream; follow streams pick up nodes as they come.
func (o *Observer) GetFlows(req *observerpb.GetFlowsRequest, stream grpc.ServerStreamingServer[observerpb.GetFlowsResponse]) error {
	if err := observer.ValidateFlowsRequest(req); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	o.metrics.streams.Add(1)
	defer o.metrics.streams.Add(-1)
	m := newMerger(o.merge.SortBufferLen, o.merge.DrainTimeout, o.metrics, stream.SendMsg)
	f := newFanout(o.pool, req, m, o.merge.RetryInterval, o.nodeName, o.log)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.run(ctx)
	}()
	err := m.run(ctx)
	cancel()
	<-done
	if err != nil {
		return err
	}
	if ctx := stream.Context(); ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	return nil
}
