package export

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Reason says why events were not exported; it is the reason label of
// fovea_export_dropped_events_total.
type Reason int

// The reasons events are dropped.
const (
	// ReasonOverwritten: the ring's writer overtook the exporter.
	ReasonOverwritten Reason = iota
	// ReasonEncodeFailed: the event did not encode.
	ReasonEncodeFailed
	// ReasonWriteFailed: the file or stdout refused the write (a full disk).
	ReasonWriteFailed
	// ReasonQueueFull: the OTLP queue had no room for the batch.
	ReasonQueueFull
	// ReasonSendFailed: the collector refused the batch, or did not take it
	// before its retries ran out or the agent stopped.
	ReasonSendFailed
	// ReasonRejected: the collector took the batch but rejected these
	// records (an OTLP partial success).
	ReasonRejected
	numReasons
)

var reasonNames = [numReasons]string{
	ReasonOverwritten:  "ring_overwritten",
	ReasonEncodeFailed: "encode_failed",
	ReasonWriteFailed:  "write_failed",
	ReasonQueueFull:    "queue_full",
	ReasonSendFailed:   "send_failed",
	ReasonRejected:     "rejected",
}

func (r Reason) String() string { return reasonNames[r] }

// reportEvery spaces the reports of continuing drops: a full disk fails
// every write, and one line a second would drown the log and the agent
// events.
const reportEvery = 30 * time.Second

// Notify publishes an agent event of type typ; the agent's is
// observer.AgentEvents behind AgentEventUnknown.
type Notify func(typ, detail string)

// Status counts what one exporter exported and dropped, read by scrapes,
// and reports drops and recoveries in the log and as agent events.
type Status struct {
	name   string
	log    *slog.Logger
	notify Notify
	now    func() time.Time

	exported atomic.Uint64
	dropped  [numReasons]atomic.Uint64
	healthy  atomic.Bool
	// queued counts the records an exporter with a queue holds; nil for
	// the others.
	queued *atomic.Int64

	mu          sync.Mutex
	pending     [numReasons]uint64 // dropped since the last report
	outage      uint64             // dropped while unhealthy
	lastReport  time.Time
	lastFailure time.Time // last report of a failure being retried
}

func newStatus(name string, log *slog.Logger, notify Notify, now func() time.Time) *Status {
	s := &Status{name: name, log: log, notify: notify, now: now}
	s.healthy.Store(true)
	return s
}

// Exported counts n events written or sent; after failures it reports the
// recovery.
func (s *Status) Exported(n uint64) {
	s.exported.Add(n)
	if n == 0 || s.healthy.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.healthy.Swap(true) {
		return
	}
	lost := s.outage
	s.outage, s.pending = 0, [numReasons]uint64{}
	s.log.Info("flow export recovered", "exporter", s.name, "dropped", lost)
	s.notify("export_recovered", fmt.Sprintf("%s: exporting again after dropping %d events", s.name, lost))
}

// Dropped counts n events not exported for reason. err, if not nil, is a
// failure of the sink: the exporter is unhealthy until Exported.
func (s *Status) Dropped(reason Reason, n uint64, err error) {
	if n == 0 {
		return
	}
	s.dropped[reason].Add(n)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[reason] += n
	if err != nil || !s.healthy.Load() {
		s.outage += n
	}
	becameUnhealthy := err != nil && s.healthy.Swap(false)
	now := s.now()
	if !becameUnhealthy && now.Sub(s.lastReport) < reportEvery {
		return
	}
	s.lastReport = now
	attrs := []any{"exporter", s.name}
	detail := s.name + ": dropped"
	for r, c := range s.pending {
		if c > 0 {
			attrs = append(attrs, reasonNames[r], c)
			detail += fmt.Sprintf(" %d (%s)", c, reasonNames[r])
		}
	}
	s.pending = [numReasons]uint64{}
	if err != nil {
		attrs = append(attrs, "err", err)
		detail += ": " + err.Error()
	}
	s.log.Warn("flow export dropped events", attrs...)
	s.notify("export_dropped", detail)
}

// Failing reports a failure whose events are kept and retried: the
// exporter is unhealthy until Exported, and says so at most once per
// reportEvery.
func (s *Status) Failing(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	becameUnhealthy := s.healthy.Swap(false)
	now := s.now()
	if !becameUnhealthy && now.Sub(s.lastFailure) < reportEvery {
		return
	}
	s.lastFailure = now
	s.log.Warn("flow export failing; retrying", "exporter", s.name, "err", err)
	s.notify("export_failing", s.name+": retrying: "+err.Error())
}
