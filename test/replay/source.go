package replay

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/bpf"
	"github.com/foveanet/fovea/model/record"
)

// batchSize is how many records the producer hands over at once, as the
// kernel ring buffer's reader drains many per wakeup.
const batchSize = 64

// tick is how often the producer catches up with its schedule.
const tick = time.Millisecond

// lostInterval is how often losses are reported as a LostEvent record, as
// the eBPF source reads its reserve failures once a second.
const lostInterval = time.Second

// Config says what a Source produces.
type Config struct {
	// Rate is how many records a second the producer makes.
	Rate float64
	// Pods are the addresses records travel between; flows go from pod i to
	// pod i*7+1 (mod len), so a filter on one pod selects 1/len of them.
	Pods []netip.Addr
	// QueueRecords is the capacity of the kernel ring buffer's stand-in.
	QueueRecords int
	// DNSEvery, when positive, makes one record in DNSEvery a DNS response
	// to a pod, whose payload L7 parses: names that rotate every second,
	// answering the addresses the pods' flows go to (see parseDNS).
	DNSEvery int
	// L7 is the agent's parser of payload snippets; DNSEvery needs it.
	L7 bpf.L7Parser
}

// Source produces records at Config.Rate into a bounded queue and emits
// them from Run's goroutine.
type Source struct {
	cfg   Config
	queue chan []record.Record
	// free holds emptied batches for reuse, so producing allocates nothing
	// once the queue has filled.
	free chan []record.Record
	// produced counts records made, lost those the full queue refused,
	// emitted those handed to the pipeline.
	produced, lost, emitted atomic.Uint64
	// dnsBuf is where Run's goroutine packs DNS payloads.
	dnsBuf [512]byte
}

// New returns a Source for cfg.
func New(cfg Config) (*Source, error) {
	switch {
	case cfg.Rate <= 0:
		return nil, errors.New("replay rate: must be positive")
	case len(cfg.Pods) == 0:
		return nil, errors.New("replay pods: none")
	case cfg.QueueRecords < batchSize:
		return nil, errors.New("replay queue: smaller than one batch")
	case cfg.DNSEvery < 0:
		return nil, errors.New("replay DNS share: negative")
	case cfg.DNSEvery > 0 && cfg.L7 == nil:
		return nil, errors.New("replay DNS share: no L7 parser")
	case cfg.DNSEvery > 0 && len(cfg.Pods) > maxDNSClients:
		return nil, fmt.Errorf("replay pods: %d, over the %d a DNS response's destination port can number", len(cfg.Pods), maxDNSClients)
	}
	batches := cfg.QueueRecords / batchSize
	return &Source{cfg: cfg, queue: make(chan []record.Record, batches), free: make(chan []record.Record, batches+2)}, nil
}

// Counts are what a Source produced, lost and emitted so far.
type Counts struct{ Produced, Lost, Emitted uint64 }

// Counts reads the counters: emitted and lost before produced, so that
// Produced - Emitted - Lost, what the source holds, is never negative
// however the producer and the consumer move between the reads.
func (s *Source) Counts() Counts {
	emitted := s.emitted.Load()
	lost := s.lost.Load()
	return Counts{Produced: s.produced.Load(), Lost: lost, Emitted: emitted}
}

// MaxHeld is the most records a Source with a queue of queueRecords holds
// at once, made but neither emitted nor lost: a full queue, the batch Run
// is emitting (counted once all of it is) and the batch the producer has
// made but not yet queued.
func MaxHeld(queueRecords int) int {
	return queueRecords/batchSize*batchSize + 2*batchSize
}

// Run produces and emits until ctx ends.
func (s *Source) Run(ctx context.Context, emit func(*record.Record)) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.produce(ctx)
	}()
	defer func() { <-done }()
	report := time.NewTicker(lostInterval)
	defer report.Stop()
	var reported uint64
	for {
		select {
		case <-ctx.Done():
			return nil
		case batch := <-s.queue:
			for i := range batch {
				emit(&batch[i])
				if s.cfg.DNSEvery > 0 && isDNS(&batch[i]) {
					s.parseDNS(&batch[i], emit)
				}
			}
			s.emitted.Add(uint64(len(batch)))
			s.put(batch)
		case now := <-report.C:
			if lost := s.lost.Load(); lost > reported {
				n := uint32(min(lost-reported, uint64(^uint32(0))))
				emit(&record.Record{
					Time: now.UnixNano(), Kind: record.KindLost, Count: n,
					LostSource: uint8(flowpb.LostEventSource_PERF_EVENT_RING_BUFFER),
				})
				reported += uint64(n)
			}
		}
	}
}

// produce makes records on schedule, never waiting for the consumer: a
// batch the queue has no room for is lost.
func (s *Source) produce(ctx context.Context) {
	t := time.NewTicker(tick)
	defer t.Stop()
	start := time.Now()
	var made uint64
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			due := uint64(s.cfg.Rate * now.Sub(start).Seconds())
			for made < due {
				batch := s.fill(s.get(), made, int(min(due-made, batchSize)), start.UnixNano())
				made += uint64(len(batch))
				s.produced.Add(uint64(len(batch)))
				select {
				case s.queue <- batch:
				default:
					s.lost.Add(uint64(len(batch)))
					s.put(batch)
				}
			}
		}
	}
}

func (s *Source) get() []record.Record {
	select {
	case b := <-s.free:
		return b
	default:
		return make([]record.Record, 0, batchSize)
	}
}

func (s *Source) put(b []record.Record) {
	select {
	case s.free <- b[:0]:
	default:
	}
}

// fill appends n records, the first numbered seq, to batch; start is when
// record 0 was due, in Unix nanoseconds.
func (s *Source) fill(batch []record.Record, seq uint64, n int, start int64) []record.Record {
	pods := uint64(len(s.cfg.Pods))
	for i := range uint64(n) {
		k := seq + i
		r := record.Record{
			// Each record's time is its place in the schedule: distinct
			// and increasing, as the relay's merge expects.
			Time:     start + int64(float64(k)*1e9/s.cfg.Rate),
			Kind:     record.KindTrace,
			Proto:    record.ProtoTCP,
			SrcPort:  uint16(32768 + k%28000),
			DstPort:  ports[k%uint64(len(ports))],
			Verdict:  uint8(flowpb.Verdict_FORWARDED),
			TCPFlags: record.TCPAck,
			ObsPoint: uint8(flowpb.TraceObservationPoint_TO_ENDPOINT),
			Bytes:    uint32(64 + k%1400),
		}
		if k%8 == 0 { // every eighth packet opens a connection
			r.TCPFlags = record.TCPSyn
		}
		if k%20 == 0 {
			r.Kind, r.Verdict, r.DropReason = record.KindDrop, uint8(flowpb.Verdict_DROPPED), uint16(flowpb.DropReason_POLICY_DENIED)
		}
		setAddr(&r.Src, s.cfg.Pods[k%pods], &r.Flags)
		setAddr(&r.Dst, s.cfg.Pods[(k*7+1)%pods], &r.Flags)
		if s.cfg.DNSEvery > 0 && k%uint64(s.cfg.DNSEvery) == 0 {
			s.makeDNS(&r, k)
		}
		batch = append(batch, r)
	}
	return batch
}

// ports are the destination ports records cycle through.
var ports = []uint16{80, 443, 8080, 5432, 6379}

// Ports returns the destination ports records cycle through.
func Ports() []uint16 { return append([]uint16(nil), ports...) }

func setAddr(dst *[16]byte, a netip.Addr, f *record.Flags) {
	if a.Is4() {
		b := a.As4()
		copy(dst[:], b[:])
		return
	}
	*dst = a.As16()
	*f |= record.FlagIPv6
}

// Close releases nothing: the source holds no kernel objects.
func (s *Source) Close() error { return nil }

var (
	producedDesc = prometheus.NewDesc("replay_records_produced_total", "Records the replay source made.", nil, nil)
	lostDesc     = prometheus.NewDesc("replay_records_lost_total", "Records the replay source's queue (the kernel ring buffer's stand-in) had no room for.", nil, nil)
	emittedDesc  = prometheus.NewDesc("replay_records_emitted_total", "Records the replay source handed to the pipeline.", nil, nil)
)

// Collector reports the counters.
func (s *Source) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Source }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- producedDesc
	ch <- lostDesc
	ch <- emittedDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	n := c.s.Counts()
	ch <- prometheus.MustNewConstMetric(producedDesc, prometheus.CounterValue, float64(n.Produced))
	ch <- prometheus.MustNewConstMetric(lostDesc, prometheus.CounterValue, float64(n.Lost))
	ch <- prometheus.MustNewConstMetric(emittedDesc, prometheus.CounterValue, float64(n.Emitted))
}
