package record

import "github.com/foveanet/fovea/model/intern"

// MarkRefs marks the intern table entries the record references, so that a
// sweep keeps them while the record is in the ring. Ext references the Names
// table in drop and policy verdict records (the kernel drop reason's name) and in trace records
// with FlagSNAT (the translated source), and the Tunnels table in other
// trace records (a decapsulated packet's outer headers); in L7
// records it references L7 details, which are bounded apart from the tables.
func (r *Record) MarkRefs(m *intern.Marks) {
	m.Interfaces.Add(r.Iface)
	m.Endpoints.Add(r.SrcEndpoint)
	m.Endpoints.Add(r.DstEndpoint)
	m.Services.Add(r.SrcService)
	m.Services.Add(r.DstService)
	m.Names.Add(r.SrcNames)
	m.Names.Add(r.DstNames)
	m.Policies.Add(r.Policy)
	switch r.Kind {
	case KindDrop, KindPolicyVerdict:
		m.Names.Add(r.Ext)
	case KindTrace:
		if r.Flags&FlagSNAT != 0 {
			m.Names.Add(r.Ext)
		} else {
			m.Tunnels.Add(r.Ext)
		}
	}
}
