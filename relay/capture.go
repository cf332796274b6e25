package relay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/foveanet/fovea/api/capture/capturepb"
)

// captureFlushInterval is how often the merge sends packets that waited
// captureLateness for a quiet node.
const captureFlushInterval = 50 * time.Millisecond

// CaptureServer serves the Capture service for every node of the pool:
// each call goes to every available node, and a capture's events come back
// as one stream, packets in time order.
type CaptureServer struct {
	capturepb.UnimplementedCaptureServer
	pool nodeLister
	log  *slog.Logger
}

// NewCaptureServer returns the Capture service over pool's nodes.
func NewCaptureServer(pool nodeLister, log *slog.Logger) *CaptureServer {
	return &CaptureServer{pool: pool, log: log}
}

// nodeStart is a node's capture stream once it answered.
type nodeStart struct {
	node   string
	stream grpc.ServerStreamingClient[capturepb.CaptureEvent]
	first  *capturepb.CaptureEvent
	err    error
}

// Start starts the capture on every node with the same id; nodes where no
// pod matches take no part. The first error of a node other than that is
// the call's, unless some node started.
func (c *CaptureServer) Start(req *capturepb.StartRequest, stream capturepb.Capture_StartServer) error {
	if req.GetId() == "" {
		var b [6]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux or Windows
		req.Id = hex.EncodeToString(b[:])
	}
	return c.fanOut(stream.Context(), stream.Send, func(ctx context.Context, client capturepb.CaptureClient) (grpc.ServerStreamingClient[capturepb.CaptureEvent], error) {
		return client.Start(ctx, req)
	})
}

// Download streams a capture every node that keeps it, merged as Start
// streams it.
func (c *CaptureServer) Download(req *capturepb.DownloadRequest, stream capturepb.Capture_DownloadServer) error {
	return c.fanOut(stream.Context(), stream.Send, func(ctx context.Context, client capturepb.CaptureClient) (grpc.ServerStreamingClient[capturepb.CaptureEvent], error) {
		return client.Download(ctx, req)
	})
}

// fanOut opens call on every available node, waits for each to answer,
// then merges the streams of those that started into send.
func (c *CaptureServer) fanOut(ctx context.Context, send func(*capturepb.CaptureEvent) error,
	call func(context.Context, capturepb.CaptureClient) (grpc.ServerStreamingClient[capturepb.CaptureEvent], error)) error {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nodes := c.pool.Nodes()
	starts := make([]nodeStart, 0, len(nodes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range nodes {
		if !n.Available || n.Conn == nil {
			continue
		}
		wg.Go(func() {
			s := nodeStart{node: n.Name}
			// A node that does not answer in time takes no part, rather
			// than hold the others' start.
			nctx, ncancel := context.WithCancel(ctx)
			timer := time.AfterFunc(nodeCallTimeout, ncancel)
			s.stream, s.err = call(nctx, capturepb.NewCaptureClient(n.Conn))
			if s.err == nil {
				s.first, s.err = s.stream.Recv()
			}
			if !timer.Stop() {
				s.err = status.Errorf(codes.DeadlineExceeded, "node %s did not answer within %v", n.Name, nodeCallTimeout)
			}
			mu.Lock()
			starts = append(starts, s)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(starts, func(a, b nodeStart) int { return strings.Compare(a.node, b.node) })
	var started []nodeStart
	var firstErr error
	for _, s := range starts {
		switch code := status.Code(s.err); {
		case s.err == nil:
			started = append(started, s)
		case code == codes.InvalidArgument || code == codes.FailedPrecondition || code == codes.AlreadyExists:
			// Every node checks a request alike: its answer is the call's.
			return s.err
		case code == codes.NotFound:
		default:
			c.log.Warn("capture failed on a node", "node", s.node, "err", s.err)
			if firstErr == nil {
				firstErr = s.err
			}
		}
	}
	if len(started) == 0 {
		if firstErr != nil {
			return firstErr
		}
		return status.Error(codes.NotFound, "no node has pods that match the selector, or the capture")
	}
	return c.merge(ctx, started, send)
}

// merge merges the started nodes' streams into send until all ended.
func (c *CaptureServer) merge(ctx context.Context, started []nodeStart, send func(*capturepb.CaptureEvent) error) error {
	m := newCaptureMerge(started[0].first.GetCaptureId(), send)
	events := make(chan *capturepb.CaptureEvent)
	var wg sync.WaitGroup
	for _, s := range started {
		m.node(s.first.GetNode())
		wg.Go(func() { c.receive(ctx, s, events) })
	}
	go func() { wg.Wait(); close(events) }()
	tick := time.NewTicker(captureFlushInterval)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return m.flush(true)
			}
			if err := m.add(ev); err != nil {
				return err
			}
		case <-tick.C:
			if err := m.flush(false); err != nil {
				return err
			}
		}
	}
}

// receive forwards a node's events to out; a node whose stream breaks
// before its Ended ends with an error event, so the client knows.
func (c *CaptureServer) receive(ctx context.Context, s nodeStart, out chan<- *capturepb.CaptureEvent) {
	node, id := s.first.GetNode(), s.first.GetCaptureId()
	ev, err := s.first, error(nil)
	for {
		select {
		case out <- ev:
		case <-ctx.Done():
			return
		}
		if ev.GetEnded() != nil {
			return
		}
		if ev, err = s.stream.Recv(); err != nil {
			break
		}
	}
	if errors.Is(err, io.EOF) {
		err = errors.New("stream ended without its end")
	}
	c.log.Warn("capture stream of a node broke", "node", node, "err", err)
	ended := &capturepb.CaptureEvent{Node: node, CaptureId: id, Event: &capturepb.CaptureEvent_Ended{Ended: &capturepb.Ended{
		Reason: capturepb.EndReason_END_REASON_ERROR, Message: "node stream broke: " + status.Convert(err).Message(),
	}}}
	select {
	case out <- ended:
	case <-ctx.Done():
	}
}

// List lists every node's captures.
func (c *CaptureServer) List(ctx context.Context, req *capturepb.ListRequest) (*capturepb.ListResponse, error) {
	resp := &capturepb.ListResponse{}
	err := c.each(ctx, func(ctx context.Context, client capturepb.CaptureClient, add func(func())) error {
		r, err := client.List(ctx, req)
		if err == nil {
			add(func() { resp.Captures = append(resp.Captures, r.GetCaptures()...) })
		}
		return err
	})
	slices.SortStableFunc(resp.Captures, func(a, b *capturepb.CaptureInfo) int {
		return a.GetStarted().AsTime().Compare(b.GetStarted().AsTime())
	})
	return resp, err
}

// Stop stops the capture on every node that runs it.
func (c *CaptureServer) Stop(ctx context.Context, req *capturepb.StopRequest) (*capturepb.StopResponse, error) {
	resp := &capturepb.StopResponse{}
	found := false
	err := c.each(ctx, func(ctx context.Context, client capturepb.CaptureClient, add func(func())) error {
		r, err := client.Stop(ctx, req)
		if status.Code(err) == codes.NotFound {
			return nil
		}
		if err == nil {
			add(func() { found, resp.Nodes = true, append(resp.Nodes, r.GetNodes()...) })
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, status.Errorf(codes.NotFound, "no node has capture %s", req.GetId())
	}
	slices.Sort(resp.Nodes)
	return resp, nil
}

// each calls fn on every available node concurrently; add runs its
// argument under a lock. It returns a node's error only if every node that
// was asked failed.
func (c *CaptureServer) each(ctx context.Context, fn func(context.Context, capturepb.CaptureClient, func(func())) error) error {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	var mu sync.Mutex
	add := func(f func()) { mu.Lock(); defer mu.Unlock(); f() }
	var wg sync.WaitGroup
	var errs []error
	asked := 0
	for _, n := range c.pool.Nodes() {
		if !n.Available || n.Conn == nil {
			continue
		}
		asked++
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, nodeCallTimeout)
			defer cancel()
			if err := fn(cctx, capturepb.NewCaptureClient(n.Conn), add); err != nil {
				c.log.Warn("capture call failed on a node", "node", n.Name, "err", err)
				add(func() { errs = append(errs, err) })
			}
		})
	}
	wg.Wait()
	if asked > 0 && len(errs) == asked {
		return errs[0]
	}
	return nil
}
