package intern

import flowpb "github.com/cilium/cilium/api/v1/flow"

// Tables are the intern tables of one agent. The values are shared by every
// flow that references them: never modify one after interning it.
type Tables struct {
	Endpoints  *Table[*flowpb.Endpoint]
	Interfaces *Table[*flowpb.NetworkInterface]
	Services   *Table[*flowpb.Service]
	Names      *Table[[]string]
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
