package endpoints

import "github.com/foveanet/fovea/model/intern"

// MarkRefs marks the endpoints and services of the current index, which the
// enricher keeps writing into records. An index replaced while a record was
// being enriched from it is covered by the sweep's second round.
func (s *Store) MarkRefs(m *intern.Marks) { s.Load().MarkRefs(m) }

// MarkRefs marks the endpoints and services the index references.
func (ix *Index) MarkRefs(m *intern.Marks) {
	for _, e := range ix.addrs {
		m.Endpoints.Add(e.pod)
		for _, sp := range e.services {
			m.Services.Add(sp.service)
		}
	}
}
