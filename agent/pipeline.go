package agent

import (
	"sync/atomic"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/agent/flowmetrics"
	"github.com/foveanet/fovea/agent/policy"
	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/l7"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/ringbuffer"
)

// Enricher sets the intern references of a record before it is stored.
type Enricher interface {
	Enrich(r *record.Record)
}

// pipeline is the write side of the ring. It is the ring's single writer:
// the source calls emit from one goroutine.
type pipeline struct {
	enrichers []Enricher
	ring      *ringbuffer.Ring[record.Record]
	seen      atomic.Uint64 // flows decoded: Hubble's seen_flows
	// namespaces learns which namespaces have flows, for GetNamespaces.
	namespaces *observer.NamespaceTracker
	endpoints  *intern.Table[*flowpb.Endpoint]
	// flowMetrics counts records into Hubble's flow metrics; nil: none.
	flowMetrics *flowmetrics.Metrics
	// policies decide new connections by the network policies; nil: off.
	policies *policy.Stage
	// l7 holds the details of the ring's L7 records; nil: no L7 parser.
	l7 *l7.Store
}

func (p *pipeline) emit(r *record.Record) {
	for _, e := range p.enrichers {
		e.Enrich(r)
	}
	if p.policies != nil {
		// A connection's verdict precedes its packet, as Cilium's does.
		verdicts := p.policies.Observe(r)
		for i := range verdicts {
			p.store(&verdicts[i])
		}
	}
	p.store(r)
}

// store writes an enriched record into the ring and counts it.
func (p *pipeline) store(r *record.Record) {
	if old := p.ring.Next(); old != nil && old.Kind == record.KindL7 && p.l7 != nil {
		p.l7.Release(old.Ext)
	}
	p.ring.Write(r)
	if p.flowMetrics != nil {
		p.flowMetrics.Observe(r)
	}
	if r.Kind != record.KindLost {
		p.seen.Add(1)
		p.namespaces.ObserveEndpoints(p.endpoints.Get(r.SrcEndpoint), p.endpoints.Get(r.DstEndpoint), r.Time)
	}
}

// MarkRefs marks the intern entries the records in the ring reference.
// It scans the ring as a reader: records overwritten meanwhile are gone, and
// the one being written is covered by the sweep's second round.
func (p *pipeline) MarkRefs(m *intern.Marks) {
	for _, r := range p.ring.All() {
		r.MarkRefs(m)
	}
}
