package relay

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	relaypb "github.com/cilium/cilium/api/v1/relay"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// nodeLister is what a fan-out needs of the pool.
type nodeLister interface {
	Nodes() []NodeInfo
	Changed() <-chan struct{}
}

// fanout runs one GetFlows call on every available node and, for follow
// requests, keeps doing so as nodes come, go, fail and recover. Everything it
// learns goes to the merger; all its state belongs to run's goroutine.
type fanout struct {
	pool    nodeLister
	req     *observerpb.GetFlowsRequest
	merge   *merger
	metrics *Metrics
	log     *slog.Logger
	retry   time.Duration
	now     func() time.Time
	follow  bool
	// self is the relay's name, in its node_status events.
	self string

	nodes   map[string]*nodeStream
	results chan nodeResult
	running int
}

// nodeStream is the fan-out's view of one node.
type nodeStream struct {
	cancel context.CancelFunc // set while a call runs
	// conn is the connection the running call uses; replaced is set when
	// the call is stopped because the peer changed and has a new one.
	conn     uint64
	replaced bool
	// reported is the last state sent to the client for the node.
	reported relaypb.NodeState
	// resume is where a new call picks up after a failed one: just after
	// the last response received, or when the failed call began; zero until
	// a call ran.
	resume time.Time
	// retryAt delays a new call after a failure.
	retryAt  time.Time
	failures int
	// finished is set once a call ended normally: a bounded request is not
	// asked again.
	finished bool
}

// nodeResult is how a node's call ended.
type nodeResult struct {
	name   string
	stream *nodeStream // the node's state when the call began
	last   time.Time   // time of the last response received, if any
	err    error
}

func newFanout(pool nodeLister, req *observerpb.GetFlowsRequest, merge *merger, retry time.Duration, self string, log *slog.Logger) *fanout {
	return &fanout{
		pool: pool, req: req, merge: merge, metrics: merge.metrics, log: log, retry: retry, self: self, now: time.Now,
		follow:  req.GetFollow(),
		nodes:   map[string]*nodeStream{},
		results: make(chan nodeResult),
	}
}

// run fans out until every call ended (bounded requests), closing the
// merger, or until ctx ends (follow requests).
func (f *fanout) run(ctx context.Context) {
	changed := f.pool.Changed()
	f.begin(ctx, f.pool.Nodes())
	if !f.follow {
		for f.running > 0 {
			f.finish(ctx, <-f.results)
		}
		f.merge.close()
		return
	}
	ticker := time.NewTicker(f.retry)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			for f.running > 0 {
				<-f.results
				f.running--
			}
			return
		case <-changed:
			changed = f.pool.Changed()
		case <-ticker.C:
		case r := <-f.results:
			f.finish(ctx, r)
		}
		f.reconcile(ctx, f.pool.Nodes())
	}
}

// begin tells the client which nodes it will hear from, then starts them.
func (f *fanout) begin(ctx context.Context, nodes []NodeInfo) {
	var connected, unavailable []string
	var start []NodeInfo
	for _, n := range nodes {
		ns := &nodeStream{}
		f.nodes[n.Name] = ns
		if n.Available {
			ns.reported = relaypb.NodeState_NODE_CONNECTED
			connected = append(connected, n.Name)
			start = append(start, n)
			continue
		}
		ns.reported = relaypb.NodeState_NODE_UNAVAILABLE
		unavailable = append(unavailable, n.Name)
	}
	if len(connected) > 0 {
		f.status(ctx, relaypb.NodeState_NODE_CONNECTED, "", connected...)
	}
	if len(unavailable) > 0 {
		f.status(ctx, relaypb.NodeState_NODE_UNAVAILABLE, "", unavailable...)
	}
	for _, n := range start {
		f.start(ctx, n)
	}
}

// reconcile starts calls on nodes that became available, reports nodes that
// became unavailable, and stops calls on nodes that left.
func (f *fanout) reconcile(ctx context.Context, nodes []NodeInfo) {
	now := f.now()
	present := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		present[n.Name] = true
		ns, known := f.nodes[n.Name]
		if !known {
			ns = &nodeStream{reported: relaypb.NodeState_UNKNOWN_NODE_STATE}
			f.nodes[n.Name] = ns
		}
		if ns.cancel != nil && ns.conn != n.ConnID {
			// The call runs on a connection the pool closed: stop it
			// quietly and resume on the new one.
			ns.cancel()
			ns.cancel, ns.replaced = nil, true
		}
		if ns.cancel != nil || ns.finished || ns.replaced {
			continue
		}
		if !n.Available {
			if ns.reported == relaypb.NodeState_NODE_CONNECTED || ns.reported == relaypb.NodeState_UNKNOWN_NODE_STATE {
				ns.reported = relaypb.NodeState_NODE_UNAVAILABLE
				f.status(ctx, ns.reported, errorMessage(n.Err), n.Name)
			}
			continue
		}
		if now.Before(ns.retryAt) {
			continue
		}
		if ns.reported != relaypb.NodeState_NODE_CONNECTED {
			ns.reported = relaypb.NodeState_NODE_CONNECTED
			f.status(ctx, ns.reported, "", n.Name)
		}
		f.start(ctx, n)
	}
	for name, ns := range f.nodes {
		if present[name] {
			continue
		}
		if ns.cancel != nil {
			ns.cancel()
		}
		delete(f.nodes, name)
		f.status(ctx, relaypb.NodeState_NODE_GONE, "", name)
	}
}

// start calls GetFlows on n: the client's request the first time, and a
// resumption after a failure so that nothing is sent twice.
func (f *fanout) start(ctx context.Context, n NodeInfo) {
	ns := f.nodes[n.Name]
	req := f.req
	if !ns.resume.IsZero() {
		req = proto.Clone(f.req).(*observerpb.GetFlowsRequest)
		req.Since, req.Number, req.First = timestamppb.New(ns.resume), 0, false
	}
	callCtx, cancel := context.WithCancel(ctx)
	ns.cancel, ns.conn = cancel, n.ConnID
	f.running++
	began := f.now()
	// Registered before the call's goroutine runs, so the merger waits for
	// this node from now on: registered later, it could send another node's
	// younger flows before this one's first.
	q := f.merge.newCall()
	go func() {
		defer cancel()
		last, err := f.call(callCtx, n, req, q)
		if last.IsZero() {
			last = began
		} else {
			last = last.Add(time.Nanosecond)
		}
		f.results <- nodeResult{name: n.Name, stream: ns, last: last, err: err}
	}()
}

// finish records the end of a node's call and tells the client about a
// failure. A node removed from the pool (even if back since) is gone
// already.
func (f *fanout) finish(ctx context.Context, r nodeResult) {
	f.running--
	ns, ok := f.nodes[r.name]
	if !ok || ns != r.stream {
		return
	}
	ns.cancel = nil
	ns.resume = r.last
	if ns.replaced || errors.Is(r.err, errConnClosed) {
		ns.replaced = false
		return
	}
	if r.err == nil {
		ns.finished, ns.failures = true, 0
		return
	}
	f.metrics.callFailed(status.Code(r.err).String())
	if !f.follow {
		ns.finished = true
	}
	state := relaypb.NodeState_NODE_ERROR
	if status.Code(r.err) == codes.Unavailable {
		state = relaypb.NodeState_NODE_UNAVAILABLE
	}
	ns.retryAt = f.now().Add(newBackoff(f.retry, maxRetryDelay).delay(ns.failures))
	ns.failures++
	f.log.Info("flows from a node stopped", "node", r.name, "error", r.err)
	if ns.reported != state || state == relaypb.NodeState_NODE_ERROR {
		ns.reported = state
		f.status(ctx, state, errorMessage(r.err), r.name)
	}
}

// maxRetryDelay caps the wait before calling a failing node again.
const maxRetryDelay = 30 * time.Second

// errStreamEnded is a follow call's node ending its stream unasked, as an
// agent shutting down does.
var errStreamEnded = status.Error(codes.Unavailable, "node ended the flow stream")

// call streams n's responses to the merger through q. It returns the time of the last
// response and nil when the node finished the request or ctx ended.
func (f *fanout) call(ctx context.Context, n NodeInfo, req *observerpb.GetFlowsRequest, q *callQueue) (time.Time, error) {
	var last time.Time
	defer q.end()
	stream, err := n.Conn.NewStream(ctx, &observerpb.Observer_ServiceDesc.Streams[0],
		observerpb.Observer_GetFlows_FullMethodName, grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		return last, callError(ctx, err)
	}
	if err := stream.SendMsg(req); err != nil {
		return last, callError(ctx, err)
	}
	if err := stream.CloseSend(); err != nil {
		return last, callError(ctx, err)
	}
	for {
		resp := &rawResponse{}
		err := stream.RecvMsg(resp)
		if errors.Is(err, io.EOF) {
			if f.follow && req.GetUntil() == nil {
				return last, errStreamEnded
			}
			return last, nil
		}
		if err != nil {
			return last, callError(ctx, err)
		}
		if resp.nodeStatus {
			// Only the relay reports node states.
			continue
		}
		if resp.at.After(last) {
			last = resp.at
		}
		n.received.Add(1)
		if !q.put(ctx, item{msg: resp, at: resp.at.UnixNano()}) {
			return last, nil
		}
	}
}

// errConnClosed is a call ended by the pool closing its connection: the
// peer left or changed, which the fan-out learns from the pool.
var errConnClosed = errors.New("connection closed by the pool")

// callError is nil for a call ended by its own context.
func callError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	if status.Code(err) == codes.Canceled {
		// Only closing the client connection cancels a call whose
		// context is alive.
		return errConnClosed
	}
	return err
}

func (f *fanout) status(ctx context.Context, state relaypb.NodeState, msg string, names ...string) {
	resp := nodeStatus(f.now(), state, msg, names...)
	resp.NodeName = f.self
	f.merge.status(ctx, resp)
}

func nodeStatus(now time.Time, state relaypb.NodeState, msg string, names ...string) *observerpb.GetFlowsResponse {
	return &observerpb.GetFlowsResponse{
		Time: timestamppb.New(now),
		ResponseTypes: &observerpb.GetFlowsResponse_NodeStatus{NodeStatus: &relaypb.NodeStatusEvent{
			StateChange: state,
			NodeNames:   names,
			Message:     msg,
		}},
	}
}

// errorMessage is what clients are told of err: a gRPC status's message,
// without the code.
func errorMessage(err error) string {
	if err == nil {
		return ""
	}
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}
