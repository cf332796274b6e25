package enrich

import (
	"net/netip"
	"sync/atomic"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// Cilium's reserved identities, which Hubble clients print as (host),
// (world), … and Hubble UI groups by.
const (
	IdentityHost  = endpoints.IdentityHost
	IdentityWorld = endpoints.IdentityWorld
)

// Reserved labels endpoints with reserved identities: host for the node's
// own addresses, world for any other.
type Reserved struct {
	host, world intern.Ref
	local       atomic.Pointer[map[netip.Addr]struct{}]
}

// NewReserved interns the reserved endpoints in tables and pins them: the
// enricher writes them into records for the agent's lifetime.
func NewReserved(tables *intern.Tables) *Reserved {
	e := &Reserved{
		host:  endpoints.InternReserved(tables, IdentityHost, endpoints.LabelHost),
		world: endpoints.InternReserved(tables, IdentityWorld, endpoints.LabelWorld),
	}
	tables.Endpoints.Pin(e.host)
	tables.Endpoints.Pin(e.world)
	e.local.Store(&map[netip.Addr]struct{}{})
	return e
}

// SetLocalAddrs replaces the set of addresses that belong to the node.
func (e *Reserved) SetLocalAddrs(addrs []netip.Addr) {
	m := make(map[netip.Addr]struct{}, len(addrs))
	for _, a := range addrs {
		m[a.Unmap()] = struct{}{}
	}
	e.local.Store(&m)
}

// Enrich sets the record's endpoints that no earlier enricher set.
func (e *Reserved) Enrich(r *record.Record) {
	if r.Kind == record.KindLost {
		return
	}
	local := *e.local.Load()
	if r.SrcEndpoint == 0 {
		r.SrcEndpoint = e.ref(local, r.SrcAddr())
	}
	if r.DstEndpoint == 0 {
		r.DstEndpoint = e.ref(local, r.DstAddr())
	}
}

func (e *Reserved) ref(local map[netip.Addr]struct{}, a netip.Addr) intern.Ref {
	if _, ok := local[a]; ok {
		return e.host
	}
	return e.world
}
