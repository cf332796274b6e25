//go:build linux

package bpf

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// lostPollInterval is how often the reserve-failure counter is turned into
// KindLost records.
const lostPollInterval = time.Second

// dropReason says why a raw event read from the ring produced no record.
type dropReason int

const (
	dropDecode dropReason = iota
	dropUnknownIface
	numDropReasons
)

func (r dropReason) String() string {
	if r == dropDecode {
		return "decode"
	}
	return "unknown_interface"
}

// read drains the ring until ctx is done. The program wakes the reader only
// once WakeupBytes are pending, so the deadline is what bounds latency.
func (s *Source) read(ctx context.Context, rd *ringbuf.Reader, emit func(*record.Record)) error {
	var (
		raw      ringbuf.Record
		rec      record.Record
		nextLost = time.Now().Add(lostPollInterval)
	)
	for ctx.Err() == nil {
		deadline := time.Now().Add(s.cfg.FlushInterval)
		rd.SetDeadline(deadline)
		for time.Now().Before(deadline) {
			err := rd.ReadInto(&raw)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				return fmt.Errorf("read ring buffer: %w", err)
			}
			s.handle(raw.RawSample, &rec, emit)
		}
		if now := time.Now(); !now.Before(nextLost) {
			nextLost = now.Add(lostPollInterval)
			total, err := s.reserveFailures()
			if err != nil {
				s.log.Warn("reading ring reserve failures failed", "err", err)
				continue
			}
			if total > s.lostReported {
				n := uint32(min(total-s.lostReported, uint64(^uint32(0))))
				rec = record.Record{
					Time:       now.UnixNano(),
					Kind:       record.KindLost,
					LostSource: uint8(flowpb.LostEventSource_PERF_EVENT_RING_BUFFER),
					Count:      n,
				}
				emit(&rec)
				s.lostReported += uint64(n)
			}
		}
	}
	return nil
}

func (s *Source) handle(raw []byte, rec *record.Record, emit func(*record.Record)) {
	s.eventsRead.Add(1)
	ev, err := Decode(raw)
	if err != nil {
		s.dropped[dropDecode].Add(1)
		return
	}
	info, ok := (*s.ifaces.Load())[ev.Ifindex]
	if ev.PodNamespace {
		// The index belongs to the pod's namespace, not ours.
		info, ok = ifaceInfo{}, false
	}
	switch ev.Kind {
	case KindDrop:
		// Drops happen on any device, or none; name the interface only
		// when it is one the source captures on.
		ev.fillDrop(rec, s.bootToUnix, info.ref, s.dropNames.hubble(ev.DropReason), s.dropNameRef(ev.DropReason))
		s.drops.add(ev.DropReason, s.dropNames.name(ev.DropReason), s.tables.Interfaces.Get(info.ref).GetName(), ev.Dir, ev.Len)
	case KindRetransmit:
		s.retransmissions.Add(1)
		ev.fillRetransmit(rec, s.bootToUnix, 0)
	default:
		if !ok {
			// The interface was detached while its events were in flight.
			s.dropped[dropUnknownIface].Add(1)
			return
		}
		ev.fillRecord(rec, s.bootToUnix, info.role, info.ref)
		if info.encrypted {
			rec.Flags |= record.FlagEncrypted
		}
		switch {
		case !ev.HasWire:
		case ev.Wire.Kind == WireSNAT:
			rec.Flags |= record.FlagSNAT
			rec.Ext = s.snatRef(ev.Wire.Src)
		default:
			rec.Ext = s.tunnels.ref(s.tables.Tunnels, ev.Wire)
			rec.TunnelSrcPort = ev.Wire.SrcPort
		}
	}
	emit(rec)
	if ev.Kind == KindSnippet && s.opts.l7 != nil {
		s.opts.l7.Parse(rec, Snippet{Payload: ev.Payload, Len: ev.PayloadLen, Seq: ev.Seq, Ack: ev.Ack}, emit)
	}
}

// dropNameRef returns the reference of the kernel drop reason's name in
// Tables.Names, interning it on first use.
func (s *Source) dropNameRef(code uint32) intern.Ref {
	if ref, ok := s.dropRefs[code]; ok {
		return ref
	}
	name := s.dropNames.name(code)
	ref := s.tables.Names.Intern(dropReasonKeyPrefix+name, func() []string { return []string{name} })
	// Cached for good, so never freed; the kernel has a few hundred reasons.
	s.tables.Names.Pin(ref)
	s.dropRefs[code] = ref
	return ref
}

// snatRef returns the reference of a translated source address in
// Tables.Names, interning it on first use. They are the node's own
// addresses, or its SNAT pools: few, so cached and pinned for good.
func (s *Source) snatRef(addr netip.Addr) intern.Ref {
	if ref, ok := s.snatRefs[addr]; ok {
		return ref
	}
	name := addr.String()
	ref := s.tables.Names.Intern(snatKeyPrefix+name, func() []string { return []string{name} })
	s.tables.Names.Pin(ref)
	if s.snatRefs == nil {
		s.snatRefs = make(map[netip.Addr]intern.Ref)
	}
	s.snatRefs[addr] = ref
	return ref
}

// snatKeyPrefix keys translated source addresses in Tables.Names apart
// from DNS names and drop reasons.
const snatKeyPrefix = "snat/"

// reserveFailures sums the per-CPU count of events the ring had no room for.
func (s *Source) reserveFailures() (uint64, error) {
	return perCPUSum(s.objs.ReserveFailures)
}

// perCPUSum sums the per-CPU values of the one counter in m, a per-CPU
// array of one uint64.
func perCPUSum(m *ebpf.Map) (uint64, error) {
	var perCPU []uint64
	if err := m.Lookup(uint32(0), &perCPU); err != nil {
		return 0, fmt.Errorf("look up %s: %w", m, err)
	}
	var total uint64
	for _, n := range perCPU {
		total += n
	}
	return total, nil
}
