package bpf

import "github.com/foveanet/fovea/model/intern"

// MarkRefs marks the interfaces the source captures on and the tunnels it
// saw lately, whose references it keeps writing into records. Kernel drop
// reason names are pinned instead (dropNameRef): the reader goroutine
// caches them without a lock.
func (s *Source) MarkRefs(m *intern.Marks) {
	for _, info := range *s.ifaces.Load() {
		m.Interfaces.Add(info.ref)
	}
	s.tunnels.mark(m.Tunnels)
}
