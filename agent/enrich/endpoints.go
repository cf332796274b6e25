package enrich

import (
	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/model/record"
)

// Endpoints sets a record's pod endpoints and services from the current
// endpoints index: one atomic load and one map lookup per address per record, no
// lock and no allocation. It runs before Reserved, which labels whatever
// it left empty.
type Endpoints struct {
	store *endpoints.Store
}

// NewEndpoints returns an enricher reading store.
func NewEndpoints(store *endpoints.Store) *Endpoints { return &Endpoints{store: store} }

// Enrich sets the endpoint and service references no earlier stage set.
func (e *Endpoints) Enrich(r *record.Record) {
	if r.Kind == record.KindLost {
		return
	}
	ix := e.store.Load()
	ep, svc := ix.Lookup(r.SrcAddr(), r.SrcPort, r.Proto)
	if r.SrcEndpoint == 0 {
		r.SrcEndpoint = ep
	}
	if r.SrcService == 0 {
		r.SrcService = svc
	}
	ep, svc = ix.Lookup(r.DstAddr(), r.DstPort, r.Proto)
	if r.DstEndpoint == 0 {
		r.DstEndpoint = ep
	}
	if r.DstService == 0 {
		r.DstService = svc
	}
}
