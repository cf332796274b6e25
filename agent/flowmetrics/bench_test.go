package flowmetrics

import (
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

// benchSpecs are the handler sets benchmarked: every handler without
// context labels, and with the per-pod context labels dashboards use.
var benchSpecs = []struct{ name, spec string }{
	{"plain", "flow drop tcp dns port-distribution icmp flows-to-world"},
	{"context", "flow:sourceContext=pod;destinationContext=pod drop:sourceContext=pod;destinationContext=pod " +
		"tcp:sourceContext=pod;destinationContext=pod dns:query;sourceContext=pod port-distribution:destinationContext=pod " +
		"icmp:sourceContext=pod flows-to-world:sourceContext=pod;destinationContext=dns|ip"},
}

// benchRecords are the sample flows as records on n, losses left out.
func benchRecords(n *flowview.Node) []record.Record {
	var recs []record.Record
	for _, d := range sampleFlows {
		if r := d.record(n); r.Kind != record.KindLost {
			recs = append(recs, r)
		}
	}
	return recs
}

// BenchmarkCount is the handlers' cost per flow, once the flows' series
// exist: one op is one flow of the sample mix, counted by every handler
// of the set.
func BenchmarkCount(b *testing.B) {
	for _, s := range benchSpecs {
		b.Run(s.name, func(b *testing.B) {
			now := time.Unix(1700000000, 0)
			n := testNode(b)
			m := newTestMetrics(b, s.spec, n, &now)
			recs := benchRecords(n)
			m.count(recs) // create the series
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				j := i % len(recs)
				m.count(recs[j : j+1])
			}
		})
	}
}

// BenchmarkCiliumProcessFlow is Cilium's handlers' cost per flow on the
// same mix, given the decoded flow.Flow Hubble has for every event anyway
// (building it is not counted).
func BenchmarkCiliumProcessFlow(b *testing.B) {
	for _, s := range benchSpecs {
		b.Run(s.name, func(b *testing.B) {
			n := testNode(b)
			c := newCiliumMetrics(b, s.spec)
			recs := benchRecords(n)
			views := make([]flowview.Flow, len(recs))
			flows := make([]*flowpb.Flow, len(recs))
			for i := range recs {
				views[i].Reset(n, &recs[i], uint64(i))
				flows[i] = views[i].Flow()
				c.process(b, &views[i])
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				j := i % len(flows)
				for _, h := range c.handlers {
					if err := h.Handler.ProcessFlow(b.Context(), flows[j]); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkObserve is what the pipeline's writer pays per record: a copy
// into the queue (drained in between, as Run does).
func BenchmarkObserve(b *testing.B) {
	now := time.Unix(1700000000, 0)
	n := testNode(b)
	m := newTestMetrics(b, benchSpecs[0].spec, n, &now)
	r := rec{proto: record.ProtoTCP, tcp: syn, obs: fromEndpoint}.record(n)
	batch := make([]record.Record, batchSize)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m.Observe(&r)
		if i%batchSize == batchSize-1 {
			m.queue.pop(batch)
			select {
			case <-m.queue.wake:
			default:
			}
		}
	}
}
