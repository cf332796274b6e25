//go:build linux

package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// loadTrace loads the drop and retransmission programs, pointed at the
// capture object's ring, so that one reader sees every event, and at its
// connection table, which classifies drops and retransmissions as requests
// or replies. It is a no-op
// when both are disabled; attachTrace attaches only the enabled ones.
func (s *Source) loadTrace() error {
	if s.cfg.DisableDrops && s.cfg.DisableRetransmissions {
		return nil
	}
	spec, err := loadTrace()
	if err != nil {
		return fmt.Errorf("load trace spec: %w", err)
	}
	spec.Maps[traceMapEvents].MaxEntries = uint32(s.cfg.RingBytes)
	spec.Maps[traceMapConntrack].MaxEntries = uint32(s.cfg.ConnEntries)
	ino, err := netnsInode()
	if err != nil {
		return err
	}
	if err := spec.Variables[traceVarNetnsIno].Set(ino); err != nil {
		return fmt.Errorf("set netns_ino: %w", err)
	}
	if err := spec.Variables[traceVarWakeupBytes].Set(uint64(s.cfg.WakeupBytes)); err != nil {
		return fmt.Errorf("set wakeup_bytes: %w", err)
	}
	if err := spec.Variables[traceVarReportUnspecified].Set(s.cfg.ReportUnspecifiedDrops); err != nil {
		return fmt.Errorf("set report_unspecified: %w", err)
	}
	tunnelPorts, err := s.cfg.tunnelPorts()
	if err != nil {
		return err
	}
	if err := spec.Variables[traceVarTunnelPorts].Set(tunnelPorts); err != nil {
		return fmt.Errorf("set tunnel_ports: %w", err)
	}
	err = spec.LoadAndAssign(&s.trace, &ebpf.CollectionOptions{
		MapReplacements: map[string]*ebpf.Map{
			traceMapEvents:          s.objs.Events,
			traceMapReserveFailures: s.objs.ReserveFailures,
			traceMapConntrack:       s.objs.Conntrack,
		},
	})
	if err != nil {
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			s.log.Error("trace program rejected by the verifier", "log", fmt.Sprintf("%+v", verr))
		}
		return fmt.Errorf("load trace objects: %w", err)
	}
	return nil
}

// netnsInode returns the inode of the calling thread's network namespace,
// which identifies it to the kernel-side filter. The thread's, not the
// process's: /proc/self names the main thread, which a goroutine locked to
// it may have moved to another namespace.
func netnsInode() (uint32, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return 0, fmt.Errorf("stat network namespace: %w", err)
	}
	return uint32(st.Ino), nil
}

// attachTrace attaches the loaded tracepoint programs as BTF tracepoints
// and returns a function that detaches them.
func (s *Source) attachTrace() (detach func(), err error) {
	var links []link.Link
	detach = func() {
		for _, l := range links {
			if err := l.Close(); err != nil {
				s.log.Warn("detaching tracepoint failed", "err", err)
			}
		}
	}
	for _, p := range []struct {
		name string
		prog *ebpf.Program
		off  bool
	}{
		{"skb:kfree_skb", s.trace.ReportDrop, s.cfg.DisableDrops},
		{"tcp:tcp_retransmit_skb", s.trace.ReportRetransmit, s.cfg.DisableRetransmissions},
	} {
		if p.off {
			continue
		}
		l, err := link.AttachTracing(link.TracingOptions{Program: p.prog, AttachType: ebpf.AttachTraceRawTp})
		if err != nil {
			detach()
			return nil, fmt.Errorf("attach %s tracepoint: %w", p.name, err)
		}
		links = append(links, l)
	}
	return detach, nil
}

// dropsUnattributed sums the per-CPU count of drops the kernel could not
// tell the namespace of.
func (s *Source) dropsUnattributed() (uint64, error) {
	if s.trace.DropsUnattributed == nil {
		return 0, nil
	}
	return perCPUSum(s.trace.DropsUnattributed)
}

// dropsUnreported sums the per-CPU tally of the drops left unreported
// because the kernel gave no reason (Config.ReportUnspecifiedDrops).
func (s *Source) dropsUnreported() (traceDropTally, error) {
	var total traceDropTally
	if s.trace.DropsUnreported == nil {
		return total, nil
	}
	var perCPU []traceDropTally
	if err := s.trace.DropsUnreported.Lookup(uint32(0), &perCPU); err != nil {
		return total, fmt.Errorf("look up drops_unreported: %w", err)
	}
	for _, t := range perCPU {
		total.Packets += t.Packets
		total.Bytes += t.Bytes
	}
	return total, nil
}
