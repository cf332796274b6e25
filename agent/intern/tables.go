package intern

import flowpb "github.com/cilium/cilium/api/v1/flow"

// Tables are the intern tables of one agent. The values are shared by every
// flow that references them: never modify one after interning it.
type Tables struct {
	Endpoints  *Table[*flowpb.Endpoint]
	Interfaces *Table[*flowpb.NetworkInterface]
	Services   *Table[*flowpb.Service]
	Names      *Table[[]string]
	// L7 holds the application-layer details records reference through
	// Ext. It is bounded, unlike the tables: details can expire before
	// the records that reference them. Nil when no L7 parser runs.
	L7 Details[*flowpb.Layer7]
}

// Details resolves references to values kept outside the intern tables;
// Get returns the zero T for a reference whose value is gone.
type Details[T any] interface {
	Get(ref Ref) T
}

// NewTables returns empty tables.
func NewTables() *Tables {
	return &Tables{
		Endpoints:  NewTable[*flowpb.Endpoint](),
		Interfaces: NewTable[*flowpb.NetworkInterface](),
		Services:   NewTable[*flowpb.Service](),
		Names:      NewTable[[]string](),
	}
}
