package flowmetrics

import (
	"bytes"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

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

// BenchmarkHandlers is the cost per flow of a handler set once the flows'
// series exist: one op is one flow of the sample mix, counted by every
// handler of the set. impl=fovea counts the record, as the agent does
// (one lock per flow here, per 64 in the agent); impl=cilium runs Cilium's
// own handlers on the decoded flow.Flow Hubble has for every event anyway
// (building it is not counted). `benchstat -col /impl` pairs them.
func BenchmarkHandlers(b *testing.B) {
	for _, s := range benchSpecs {
		b.Run("set="+s.name+"/impl=fovea", func(b *testing.B) {
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
		b.Run("set="+s.name+"/impl=cilium", func(b *testing.B) {
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

// manyRecords returns count records on a new node, each the first of a
// series in manySeries' metric: one per destination address, half of them
// to a pod (a per-pod dashboard's label set).
func manyRecords(b *testing.B, count int) (*flowview.Node, []record.Record) {
	n := testNode(b)
	recs := make([]record.Record, count)
	for i := range recs {
		d := rec{src: "10.0.0.1", proto: record.ProtoTCP, obs: fromEndpoint, reply: no, srcEP: podA,
			dst: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}).String()}
		if i%2 == 0 {
			d.dstEP = &flowpb.Endpoint{Namespace: "shop", PodName: fmt.Sprintf("cart-%d-7d9f8b6c5-x2x4z", i)}
		}
		recs[i] = d.record(n)
	}
	return n, recs
}

// manySeries returns metrics holding a series for each of recs.
func manySeries(b *testing.B, n *flowview.Node, recs []record.Record) *Metrics {
	now := time.Unix(1700000000, 0)
	m := newTestMetrics(b, "flow:sourceContext=pod;destinationContext=pod|ip", n, &now, WithSeriesLimit(len(recs)))
	for i := 0; i < len(recs); i += batchSize {
		m.count(recs[i:min(i+batchSize, len(recs))])
	}
	if got := len(m.stores[0].series); got != len(recs) {
		b.Fatalf("%d series, want %d", got, len(recs))
	}
	return m
}

// BenchmarkScrape is one scrape of 10,000 series: gathering them and
// writing the text exposition Prometheus reads; impl=cilium scrapes
// Cilium's flow handler holding the same series.
func BenchmarkScrape(b *testing.B) {
	const spec = "flow:sourceContext=pod;destinationContext=pod|ip"
	n, recs := manyRecords(b, 10000)
	fovea := prometheus.NewRegistry()
	fovea.MustRegister(manySeries(b, n, recs).FlowCollector())
	cilium := newCiliumMetrics(b, spec)
	var view flowview.Flow
	for i := range recs {
		view.Reset(n, &recs[i], uint64(i))
		cilium.process(b, &view)
	}
	for _, impl := range []struct {
		name string
		reg  prometheus.Gatherer
	}{{"fovea", fovea}, {"cilium", cilium.reg}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			var buf bytes.Buffer
			b.ReportAllocs()
			for range b.N {
				buf.Reset()
				families, err := impl.reg.Gather()
				if err != nil {
					b.Fatal(err)
				}
				enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
				for _, f := range families {
					if err := enc.Encode(f); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes/scrape")
		})
	}
}

// BenchmarkSeriesMemory is the heap one series holds (its key, label
// values, count and map entry), over 10,000 series like a per-pod
// dashboard's.
func BenchmarkSeriesMemory(b *testing.B) {
	const count = 10000
	var perSeries float64
	for range b.N {
		// The records and the endpoints they reference exist before: the
		// agent's tables hold them whether or not metrics are counted.
		n, recs := manyRecords(b, count)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := manySeries(b, n, recs)
		runtime.GC()
		runtime.ReadMemStats(&after)
		perSeries = float64(after.HeapAlloc-before.HeapAlloc) / count
		runtime.KeepAlive(m)
		runtime.KeepAlive(recs)
	}
	b.ReportMetric(perSeries, "B/series")
}
