package relay

import (
	"context"
	"errors"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/foveanet/fovea/api/observer"
)

// MergeConfig tunes the time-ordered merge of GetFlows streams.
type MergeConfig struct {
	// SortBufferLen bounds the responses buffered per client stream.
	SortBufferLen int
	// DrainTimeout is how long a response waits for older ones from nodes
	// that are quiet.
	DrainTimeout time.Duration
	// RetryInterval is how often follow streams look for nodes to (re)start.
	RetryInterval time.Duration
}

// Validate checks the settings; errors name the flags.
func (c MergeConfig) Validate() error {
	if c.SortBufferLen < 1 {
		return errors.New("--sort-buffer-len-max: must be at least 1")
	}
	if c.DrainTimeout <= 0 {
		return errors.New("--sort-buffer-drain-timeout: must be positive")
	}
	if c.RetryInterval <= 0 {
		return errors.New("--peer-update-interval: must be positive")
	}
	return nil
}

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
