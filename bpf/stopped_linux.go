//go:build linux

package bpf

// logStopped reports, once Run has detached, how many interfaces it left
// and what the source read and lost at each stage, so that an agent's last
// lines say whether it saw everything.
func (s *Source) logStopped(detached int) {
	attrs := []any{
		"interfaces_detached", detached,
		"events_read", s.eventsRead.Load(),
		"lost_undecodable", s.dropped[dropDecode].Load(),
		"lost_detached_interface", s.dropped[dropUnknownIface].Load(),
		"retransmissions", s.retransmissions.Load(),
	}
	if n, err := s.reserveFailures(); err == nil {
		attrs = append(attrs, "lost_kernel_ring_full", n)
	}
	if n, err := s.dropsUnattributed(); err == nil {
		attrs = append(attrs, "drops_unattributed", n)
	}
	if t, err := s.dropsUnreported(); err == nil {
		attrs = append(attrs, "drops_unspecified_unreported", t.Packets)
	}
	var drops uint64
	for _, d := range s.drops.snapshot() {
		drops += d.Packets
	}
	s.log.Info("capture stopped", append(attrs, "drops_reported", drops)...)
}
