package export

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	relaypb "github.com/cilium/cilium/api/v1/relay"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/foveanet/fovea/model/flowview"
)

// The OTLP defaults: batches as the collector's batch processor sends
// them, a queue of 32 batches, and the OTLP exporters' retry policy (5 s
// to 30 s apart, for at most 5 minutes).
const (
	DefaultOTLPBatchSize    = 512
	DefaultOTLPBatchTimeout = time.Second
	DefaultOTLPQueueSize    = 32 * DefaultOTLPBatchSize
	DefaultOTLPTimeout      = 10 * time.Second
	otlpRetryFirst          = 5 * time.Second
	otlpRetryMax            = 30 * time.Second
	otlpRetryFor            = 5 * time.Minute
	// otlpDrainFor is how long a stopping exporter keeps sending what it
	// holds.
	otlpDrainFor = 5 * time.Second
)

// OTLP describes an OTLP logs exporter.
type OTLP struct {
	// Name names the exporter in metrics and logs.
	Name string
	// Dial connects to the collector; gRPC connects lazily and reconnects
	// by itself.
	Dial func() (*grpc.ClientConn, error)
	// Headers are sent with every export call (authentication).
	Headers map[string]string
	// CallOptions are added to every export call (compression).
	CallOptions []grpc.CallOption
	// Filter and FieldMask select the flows and their fields, as a flow
	// log's: the field mask applies to the body.
	IncludeFilters, ExcludeFilters []*flowpb.FlowFilter
	FieldMask                      []string
	// BatchSize records, or what BatchTimeout gathered, are sent at once;
	// the queue holds QueueSize/BatchSize batches, beyond which batches
	// are dropped.
	BatchSize    int
	BatchTimeout time.Duration
	QueueSize    int
	// Timeout bounds one export call.
	Timeout time.Duration
	// retryFirst, retryMax and retryFor are the retry policy; tests
	// shorten it.
	retryFirst, retryMax, retryFor time.Duration
}

// AddOTLP adds an OTLP logs exporter for the agent's lifetime; it starts
// with Run, or at once if Run is running.
func (m *Manager) AddOTLP(o OTLP) error {
	c, err := compileSelection(o.IncludeFilters, o.ExcludeFilters, o.FieldMask)
	if err != nil {
		return err
	}
	if o.BatchSize <= 0 || o.QueueSize < o.BatchSize || o.BatchTimeout <= 0 || o.Timeout <= 0 {
		return fmt.Errorf("add OTLP exporter %q: batch size %d, queue size %d, batch timeout %v and timeout %v must be positive, the queue at least a batch",
			o.Name, o.BatchSize, o.QueueSize, o.BatchTimeout, o.Timeout)
	}
	if o.retryFirst == 0 {
		o.retryFirst, o.retryMax, o.retryFor = otlpRetryFirst, otlpRetryMax, otlpRetryFor
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.entries[o.Name]; ok {
		return fmt.Errorf("add OTLP exporter %q: the name is taken", o.Name)
	}
	resource := newResource(m.node)
	m.addLocked(&entry{name: o.Name, compiled: c, newSink: func(st *Status) Sink { return newOTLPSink(o, resource, st) }})
	return nil
}

// otlpSink batches flows into LogRecords on the follower's goroutine and
// hands the batches to a sender goroutine through a bounded queue: a
// collector that is down or slow fills the queue, and what does not fit
// is dropped and counted, never waited for.
type otlpSink struct {
	cfg      OTLP
	status   *Status
	resource *resourcepb.Resource
	scope    *commonpb.InstrumentationScope
	md       metadata.MD

	batch   []*logspb.LogRecord
	started time.Time // of the batch
	queue   chan []*logspb.LogRecord
	queued  atomic.Int64

	conn       *grpc.ClientConn // nil if the dial failed
	dialErr    error
	stopSender context.CancelFunc
	senderDone chan struct{}
}

func newOTLPSink(cfg OTLP, resource *resourcepb.Resource, st *Status) *otlpSink {
	s := &otlpSink{
		cfg: cfg, status: st, resource: resource,
		scope: &commonpb.InstrumentationScope{Name: "github.com/foveanet/fovea/agent/export"},
		md:    metadata.New(cfg.Headers),
		queue: make(chan []*logspb.LogRecord, max(cfg.QueueSize/cfg.BatchSize, 1)),
	}
	st.queued = &s.queued
	s.conn, s.dialErr = cfg.Dial()
	ctx, cancel := context.WithCancel(context.Background())
	s.stopSender, s.senderDone = cancel, make(chan struct{})
	go s.send(ctx)
	return s
}

// Flow implements Sink.
func (s *otlpSink) Flow(ev *flowview.Flow, f *flowpb.Flow) {
	body, err := encoding.Marshal(f)
	if err != nil {
		s.status.Dropped(ReasonEncodeFailed, 1, fmt.Errorf("encode flow: %w", err))
		return
	}
	now := time.Now()
	if len(s.batch) == 0 {
		s.started = now
	}
	s.batch = append(s.batch, logRecord(ev.Flow(), string(body), now))
	if len(s.batch) >= s.cfg.BatchSize || now.Sub(s.started) >= s.cfg.BatchTimeout {
		s.enqueue()
	}
}

// Lost implements Sink: losses are counted in metrics, not sent.
func (s *otlpSink) Lost(time.Time, *flowpb.LostEvent) {}

// NodeStatus implements Sink: the collector gets flows only.
func (s *otlpSink) NodeStatus(time.Time, *relaypb.NodeStatusEvent) {}

// Idle implements Sink: a batch older than the batch timeout is queued.
func (s *otlpSink) Idle(now time.Time) time.Time {
	if len(s.batch) == 0 {
		return time.Time{}
	}
	due := s.started.Add(s.cfg.BatchTimeout)
	if now.Before(due) {
		return due
	}
	s.enqueue()
	return time.Time{}
}

// enqueue hands the batch to the sender, or drops it if the queue is full.
func (s *otlpSink) enqueue() {
	n := int64(len(s.batch))
	select {
	case s.queue <- s.batch:
		s.queued.Add(n)
	default:
		s.status.Dropped(ReasonQueueFull, uint64(n), nil)
	}
	s.batch = make([]*logspb.LogRecord, 0, s.cfg.BatchSize)
}

// Close implements Sink: what is queued is sent for at most otlpDrainFor,
// the rest dropped and counted.
func (s *otlpSink) Close() error {
	if len(s.batch) > 0 {
		s.enqueue()
	}
	close(s.queue)
	select {
	case <-s.senderDone:
	case <-time.After(otlpDrainFor):
		s.stopSender()
		<-s.senderDone
	}
	s.stopSender()
	if s.conn == nil {
		return nil
	}
	if err := s.conn.Close(); err != nil {
		return fmt.Errorf("close OTLP connection: %w", err)
	}
	return nil
}

// send exports the queued batches in order until the queue is closed and
// empty; once ctx ends it drops what is left.
func (s *otlpSink) send(ctx context.Context) {
	defer close(s.senderDone)
	var client collogspb.LogsServiceClient
	if s.conn != nil {
		client = collogspb.NewLogsServiceClient(s.conn)
	}
	for batch := range s.queue {
		s.export(ctx, client, batch)
		s.queued.Add(-int64(len(batch)))
	}
}

// export sends one batch, retrying what OTLP says may be retried with
// exponential backoff and jitter.
func (s *otlpSink) export(ctx context.Context, client collogspb.LogsServiceClient, batch []*logspb.LogRecord) {
	n := uint64(len(batch))
	if client == nil {
		s.status.Dropped(ReasonSendFailed, n, fmt.Errorf("dial OTLP collector: %w", s.dialErr))
		return
	}
	req := &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource:  s.resource,
		ScopeLogs: []*logspb.ScopeLogs{{Scope: s.scope, LogRecords: batch}},
	}}}
	giveUp := time.Now().Add(s.cfg.retryFor)
	for wait := s.cfg.retryFirst; ; wait = min(2*wait, s.cfg.retryMax) {
		resp, err := s.call(ctx, client, req)
		if err == nil {
			rejected := uint64(max(resp.GetPartialSuccess().GetRejectedLogRecords(), 0))
			s.status.Exported(n - min(rejected, n))
			if rejected > 0 {
				s.status.Dropped(ReasonRejected, rejected, errors.New(resp.GetPartialSuccess().GetErrorMessage()))
			}
			return
		}
		// Half to all of wait, so that agents do not retry in step.
		sleep := wait/2 + rand.N(wait/2+1)
		if !retryable(err) || time.Now().Add(sleep).After(giveUp) {
			s.status.Dropped(ReasonSendFailed, n, fmt.Errorf("export logs: %w", err))
			return
		}
		s.status.Failing(fmt.Errorf("export logs: %w", err))
		select {
		case <-time.After(sleep):
		case <-ctx.Done():
			s.status.Dropped(ReasonSendFailed, n, fmt.Errorf("export logs: stopped while retrying: %w", err))
			return
		}
	}
}

func (s *otlpSink) call(ctx context.Context, client collogspb.LogsServiceClient, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if len(s.md) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, s.md)
	}
	return client.Export(ctx, req, s.cfg.CallOptions...)
}

// retryable reports whether OTLP/gRPC allows retrying a call that failed
// with err.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Canceled, codes.DeadlineExceeded, codes.Aborted, codes.OutOfRange,
		codes.Unavailable, codes.DataLoss, codes.ResourceExhausted:
		return true
	}
	return false
}
