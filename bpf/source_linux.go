//go:build linux

package bpf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// Source captures packets on host interfaces and emits them as records.
type Source struct {
	cfg        Config
	log        *slog.Logger
	tables     *intern.Tables
	opts       options
	objs       captureObjects
	trace      traceObjects
	bootToUnix int64
	// dropNames names the kernel's drop reasons; dropRefs interns them
	// (only the reader touches it).
	dropNames dropReasonNames
	dropRefs  map[uint32]intern.Ref
	// tunnels caches the references of decapsulated packets' tunnels;
	// snatRefs those of translated sources (only the reader touches it).
	tunnels  tunnelRefs
	snatRefs map[netip.Addr]intern.Ref

	// ifaces maps ifindex to what the reader needs per event; it is
	// replaced, never modified, so the reader loads it without locking.
	ifaces atomic.Pointer[map[uint32]ifaceInfo]

	mu       sync.Mutex // serialises attach and detach
	attached map[int]*attachment
	// podNetns counts the attached veths leading to each watched pod
	// namespace (by inode).
	podNetns map[uint32]int
	useTC    bool // tcx was found missing; attach through tc clsact

	running    atomic.Bool
	eventsRead atomic.Uint64
	dropped    [numDropReasons]atomic.Uint64
	// retransmissions counts retransmission events read.
	retransmissions atomic.Uint64
	drops           dropCounter
	// lostReported is how many reserve failures KindLost records have
	// covered; only the reader touches it.
	lostReported uint64
	// possibleCPUs sizes per-CPU map values.
	possibleCPUs int
}

// ifaceInfo is what decoding an event needs to know about its interface.
type ifaceInfo struct {
	role role
	// encrypted: the interface encrypts what it carries (WireGuard).
	encrypted bool
	ref       intern.Ref
}

// DropCounts returns the drops reported so far, by kernel reason and
// interface.
func (s *Source) DropCounts() []DropCount { return s.drops.snapshot() }

// NewSource validates cfg and loads the capture programs into the kernel.
// Nothing is attached until Run. Close releases the programs and maps.
func NewSource(cfg Config, log *slog.Logger, tables *intern.Tables, opts ...Option) (*Source, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		return nil, errors.New("new bpf source: log is nil")
	}
	if tables == nil || tables.Interfaces == nil {
		return nil, errors.New("new bpf source: tables.Interfaces is nil")
	}
	if tables.Names == nil && !cfg.DisableDrops {
		return nil, errors.New("new bpf source: tables.Names is nil (drop reasons are interned there)")
	}
	s := &Source{cfg: cfg, log: log, tables: tables, attached: make(map[int]*attachment), podNetns: make(map[uint32]int), dropRefs: make(map[uint32]intern.Ref)}
	for _, o := range opts {
		o(&s.opts)
	}
	s.useTC = s.opts.forceTC
	if s.possibleCPUs, err = ebpf.PossibleCPU(); err != nil {
		return nil, fmt.Errorf("count possible CPUs: %w", err)
	}
	s.ifaces.Store(&map[uint32]ifaceInfo{})

	if s.bootToUnix, err = bootToUnixOffset(); err != nil {
		return nil, err
	}
	spec, err := loadCapture()
	if err != nil {
		return nil, fmt.Errorf("load capture spec: %w", err)
	}
	spec.Maps[captureMapEvents].MaxEntries = uint32(cfg.RingBytes)
	spec.Maps[captureMapConntrack].MaxEntries = uint32(cfg.ConnEntries)
	spec.Maps[captureMapAggregates].MaxEntries = uint32(cfg.ConnEntries)
	mode := uint8(aggConnection)
	if cfg.Aggregation == AggregationNone {
		mode = aggNone
	}
	for name, v := range map[string]any{
		captureVarAggregation:      mode,
		captureVarReportIntervalNs: uint64(cfg.AggregationInterval.Nanoseconds()),
		captureVarSampleRate:       cfg.SampleRate,
	} {
		if err := spec.Variables[name].Set(v); err != nil {
			return nil, fmt.Errorf("set %s: %w", name, err)
		}
	}
	tunnelPorts, err := cfg.tunnelPorts()
	if err != nil {
		return nil, err
	}
	if err := spec.Variables[captureVarTunnelPorts].Set(tunnelPorts); err != nil {
		return nil, fmt.Errorf("set tunnel_ports: %w", err)
	}
	if err := spec.Variables[captureVarWakeupBytes].Set(uint64(cfg.WakeupBytes)); err != nil {
		return nil, fmt.Errorf("set wakeup_bytes: %w", err)
	}
	if s.opts.l7 != nil {
		if err := spec.Variables[captureVarSnippetPorts].Set(portBits(cfg.DNSPorts)); err != nil {
			return nil, fmt.Errorf("set snippet_ports: %w", err)
		}
		if err := spec.Variables[captureVarHttpRate].Set(cfg.HTTPRate); err != nil {
			return nil, fmt.Errorf("set http_rate: %w", err)
		}
	}
	if err := spec.LoadAndAssign(&s.objs, nil); err != nil {
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			log.Error("capture program rejected by the verifier", "log", fmt.Sprintf("%+v", verr))
		}
		return nil, fmt.Errorf("load capture objects: %w", err)
	}
	if err := s.loadTrace(); err != nil {
		return nil, errors.Join(err, s.objs.Close())
	}
	if !cfg.DisableDrops {
		if s.dropNames, err = loadDropReasonNames(); err != nil {
			return nil, errors.Join(err, s.Close())
		}
	}
	return s, nil
}

// Close releases the kernel objects. Call it after Run has returned.
func (s *Source) Close() error {
	var errs []error
	if err := s.trace.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close trace objects: %w", err))
	}
	if err := s.objs.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close capture objects: %w", err))
	}
	return errors.Join(errs...)
}

// Run attaches to the selected interfaces present now and to matching ones
// that appear later, and to the drop and retransmission tracepoints, and
// emits a record per captured packet, dropped packet and retransmitted
// segment, plus a record.KindLost record whenever the kernel ring
// overflowed, until ctx is done. emit is called from one goroutine and must not retain the record.
// On return every attachment is removed.
func (s *Source) Run(ctx context.Context, emit func(*record.Record)) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("run bpf source: already running")
	}
	defer s.running.Store(false)

	rd, err := ringbuf.NewReader(s.objs.Events)
	if err != nil {
		return fmt.Errorf("open ring buffer reader: %w", err)
	}
	defer rd.Close()

	if err := removeStaleFilters(s.log); err != nil {
		s.log.Warn("removing stale tc filters failed", "err", err)
	}
	defer func() { s.logStopped(s.detachAll()) }()

	// Tracepoints first: once an interface is reported attached, drops on
	// it are reported too.
	detachTrace, err := s.attachTrace()
	if err != nil {
		return err
	}
	defer detachTrace()

	stopWatch, err := s.watchLinks()
	if err != nil {
		return err
	}
	defer stopWatch()
	if s.opts.ready != nil {
		s.opts.ready()
	}

	return s.read(ctx, rd, emit)
}
