package enrich

import "github.com/foveanet/fovea/model/intern"

// MarkRefs marks the endpoints and services of the index the enricher
// reads, which it keeps writing into records.
func (e *Endpoints) MarkRefs(m *intern.Marks) { e.store.MarkRefs(m) }
