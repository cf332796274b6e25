package intern

import (
	"fmt"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// Tables are the intern tables of one agent. The values are shared by every
// flow that references them: never modify one after interning it.
type Tables struct {
	Endpoints  *Table[*flowpb.Endpoint]
	Interfaces *Table[*flowpb.NetworkInterface]
	Services   *Table[*flowpb.Service]
	Names      *Table[[]string]
	// Tunnels holds the outer headers of decapsulated packets, keyed by
	// everything but the outer source port, which varies per inner flow
	// and is kept in the record.
	Tunnels *Table[*flowpb.Tunnel]
	// Policies holds the sets of network policies that decided a
	// connection direction, in the order Hubble lists them
	// (ingress_allowed_by, egress_denied_by, …).
	Policies *Table[[]*flowpb.Policy]
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
		Tunnels:    NewTable[*flowpb.Tunnel](),
		Policies:   NewTable[[]*flowpb.Policy](),
	}
}

// Marks holds one Mark per table: what a sweep found referenced.
type Marks struct {
	Endpoints, Interfaces, Services, Names, Tunnels, Policies *Mark
}

// Holder is anything that keeps Refs it may still write into records or
// resolve: it marks them when a sweep asks.
type Holder interface {
	MarkRefs(m *Marks)
}

// NewMarks returns empty marks of the tables' current Refs.
func (ts *Tables) NewMarks() *Marks {
	return &Marks{
		Endpoints:  ts.Endpoints.NewMark(),
		Interfaces: ts.Interfaces.NewMark(),
		Services:   ts.Services.NewMark(),
		Names:      ts.Names.NewMark(),
		Tunnels:    ts.Tunnels.NewMark(),
		Policies:   ts.Policies.NewMark(),
	}
}

// TableStats are per-table counts, in the order Endpoints, Interfaces,
// Services, Names, Tunnels, Policies (see TableNames).
type TableStats [6]int

// TableNames names the tables in metrics and TableStats order.
var TableNames = [6]string{"endpoints", "interfaces", "services", "names", "tunnels", "policies"}

// Sweep sweeps every table with its mark and returns how many values each
// freed.
func (ts *Tables) Sweep(m *Marks) (TableStats, error) {
	var freed TableStats
	var err error
	sweep := func(i int, f func() (int, error)) {
		if err != nil {
			return
		}
		if freed[i], err = f(); err != nil {
			err = fmt.Errorf("sweep %s: %w", TableNames[i], err)
		}
	}
	sweep(0, func() (int, error) { return ts.Endpoints.Sweep(m.Endpoints) })
	sweep(1, func() (int, error) { return ts.Interfaces.Sweep(m.Interfaces) })
	sweep(2, func() (int, error) { return ts.Services.Sweep(m.Services) })
	sweep(3, func() (int, error) { return ts.Names.Sweep(m.Names) })
	sweep(4, func() (int, error) { return ts.Tunnels.Sweep(m.Tunnels) })
	sweep(5, func() (int, error) { return ts.Policies.Sweep(m.Policies) })
	return freed, err
}

// tableStats are one table's counts, for metrics.
type tableStats struct {
	entries, chunks, stragglers int
	freed, exhausted            uint64
}

// stats returns each table's counts, in TableNames order.
func (ts *Tables) stats() [6]tableStats {
	return [6]tableStats{
		statsOf(ts.Endpoints), statsOf(ts.Interfaces), statsOf(ts.Services), statsOf(ts.Names), statsOf(ts.Tunnels), statsOf(ts.Policies),
	}
}

func statsOf[T any](t *Table[T]) tableStats {
	return tableStats{entries: t.Len(), chunks: t.Chunks(), stragglers: t.Stragglers(), freed: t.Freed(), exhausted: t.Exhausted()}
}
