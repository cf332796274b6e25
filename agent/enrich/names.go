package enrich

import (
	"net/netip"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// NamesByAddr gives the interned DNS names an address has at a time (Unix
// ns), or zero; agent/dns.Names implements it from observed DNS answers.
type NamesByAddr interface {
	Lookup(addr netip.Addr, now int64) intern.Ref
}

// Names sets the DNS names of a record's addresses (source_names and
// destination_names, which `hubble observe --fqdn` matches) from the names
// they had when the record was written.
type Names struct {
	names NamesByAddr
}

// NewNames returns an enricher reading names.
func NewNames(names NamesByAddr) *Names { return &Names{names: names} }

// Enrich sets the record's name references that no earlier stage set.
func (e *Names) Enrich(r *record.Record) {
	if r.Kind == record.KindLost {
		return
	}
	if r.SrcNames == 0 {
		r.SrcNames = e.names.Lookup(r.SrcAddr(), r.Time)
	}
	if r.DstNames == 0 {
		r.DstNames = e.names.Lookup(r.DstAddr(), r.Time)
	}
}
