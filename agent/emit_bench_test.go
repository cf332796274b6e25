package agent

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/foveanet/fovea/agent/dns"
	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/agent/enrich"
	"github.com/foveanet/fovea/agent/flowmetrics"
	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/ringbuffer"
)

// benchPods is n pods, one address each, in 10.2.0.0/16.
func benchPods(n int) []endpoints.Pod {
	pods := make([]endpoints.Pod, n)
	for i := range pods {
		pods[i] = endpoints.Pod{
			Namespace: "bench", Name: fmt.Sprintf("pod-%d", i),
			Labels: map[string]string{"app": fmt.Sprintf("app-%d", i%50)},
			IPs:    []netip.Addr{netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)})},
		}
	}
	return pods
}

// newBenchPipeline is the agent's pipeline over a 65,535-record ring, with
// an index of 10,000 pods.
func newBenchPipeline(b *testing.B) (*pipeline, *intern.Tables, *endpoints.Store, *dns.Names, []endpoints.Pod) {
	b.Helper()
	tables := intern.NewTables()
	ring, err := ringbuffer.New[record.Record](65535)
	if err != nil {
		b.Fatal(err)
	}
	names, err := dns.NewNames(tables.Names)
	if err != nil {
		b.Fatal(err)
	}
	pods := benchPods(10000)
	ix, err := endpoints.Build(tables, pods, nil)
	if err != nil {
		b.Fatal(err)
	}
	store := endpoints.NewStore()
	store.Replace(ix)
	p := &pipeline{
		ring:       ring,
		enrichers:  []Enricher{enrich.NewEndpoints(store), enrich.NewReserved(tables), enrich.NewNames(names)},
		namespaces: observer.NewNamespaceTracker(),
		endpoints:  tables.Endpoints,
	}
	return p, tables, store, names, pods
}

// BenchmarkPipelineEmit is the writer's hot path: enrich a record between
// two pods and store it.
func BenchmarkPipelineEmit(b *testing.B) {
	p, _, _, _, pods := newBenchPipeline(b)
	i := 0
	var r record.Record
	for b.Loop() {
		r = record.Record{Kind: record.KindTrace, Time: int64(i), Proto: record.ProtoTCP, SrcPort: 40000, DstPort: 80}
		r.SetAddrs(pods[i%len(pods)].IPs[0], pods[(i*7+1)%len(pods)].IPs[0])
		p.emit(&r)
		i++
	}
}

// BenchmarkPipelineEmitFlowMetrics is the writer's hot path with every
// Hubble flow metrics handler enabled: the records are queued for the
// handlers' goroutine, which counts them meanwhile.
func BenchmarkPipelineEmitFlowMetrics(b *testing.B) {
	p, tables, _, _, pods := newBenchPipeline(b)
	cfg, err := flowmetrics.ParseSpec("flow drop tcp dns port-distribution icmp flows-to-world")
	if err != nil {
		b.Fatal(err)
	}
	node := flowview.NewNode("node1", "default", "bench", nil, tables)
	if p.flowMetrics, err = flowmetrics.New(cfg, node); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	go func() { _ = p.flowMetrics.Run(ctx) }()
	i := 0
	var r record.Record
	for b.Loop() {
		r = record.Record{Kind: record.KindTrace, Time: int64(i), Proto: record.ProtoTCP, SrcPort: 40000, DstPort: 80}
		r.SetAddrs(pods[i%len(pods)].IPs[0], pods[(i*7+1)%len(pods)].IPs[0])
		p.emit(&r)
		i++
	}
}
