package sweep

import (
	"context"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/foveanet/fovea/model/intern"
)

// holderFunc adapts a function to intern.Holder.
type holderFunc func(*intern.Marks)

func (f holderFunc) MarkRefs(m *intern.Marks) { f(m) }

func TestSweeperRunsAndReports(t *testing.T) {
	tables := intern.NewTables()
	ep := func(name string) intern.Ref {
		return tables.Endpoints.Intern(name, func() *flowpb.Endpoint { return &flowpb.Endpoint{PodName: name} })
	}
	kept, gone := ep("kept"), ep("gone")
	reg := prometheus.NewRegistry()
	s, err := New(tables, []intern.Holder{holderFunc(func(m *intern.Marks) { m.Endpoints.Add(kept) })},
		WithInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(tables.Collector(), s.Collector())
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for tables.Endpoints.Get(gone) != nil && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if tables.Endpoints.Get(gone) != nil || tables.Endpoints.Get(kept).GetPodName() != "kept" {
		t.Fatalf("after sweeps: gone=%v kept=%v", tables.Endpoints.Get(gone), tables.Endpoints.Get(kept))
	}
	want := `
# HELP intern_entries Values an intern table holds: interned and not yet freed.
# TYPE intern_entries gauge
intern_entries{table="endpoints"} 1
intern_entries{table="interfaces"} 0
intern_entries{table="names"} 0
intern_entries{table="policies"} 0
intern_entries{table="services"} 0
intern_entries{table="tunnels"} 0
# HELP intern_freed_total Values freed from an intern table once no record in the ring and nothing live referenced them.
# TYPE intern_freed_total counter
intern_freed_total{table="endpoints"} 1
intern_freed_total{table="interfaces"} 0
intern_freed_total{table="names"} 0
intern_freed_total{table="policies"} 0
intern_freed_total{table="services"} 0
intern_freed_total{table="tunnels"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "intern_entries", "intern_freed_total"); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "intern_sweep_duration_seconds", "intern_chunks", "intern_stragglers", "intern_exhausted_total"); err != nil || n != 1+3*len(intern.TableNames) {
		t.Fatalf("sweep duration, chunk, straggler and exhausted series: %d, %v", n, err)
	}
}

func TestNewRejectsBadInterval(t *testing.T) {
	if _, err := New(intern.NewTables(), nil, WithInterval(0)); err == nil {
		t.Fatal("zero interval accepted")
	}
}
