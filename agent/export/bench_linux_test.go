package export

import (
	"context"
	"net/netip"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding/gzip"

	"github.com/foveanet/fovea/model/record"
)

// cpuTime is the CPU time the process has used, all goroutines.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkExport exports flows between two labelled pods end to end: one
// op is one record written to the ring and exported by a follower, to a
// lumberjack file (sink=file) or as OTLP logs, gzipped, to a collector on
// loopback (sink=otlp). The writer waits for the exporter every 4096
// records, so nothing is lost and ns/op is the exporter's throughput;
// cpu-ns/flow is the process's CPU time per flow, every goroutine's (for
// OTLP the in-process collector's decoding too, so it overstates the
// agent's share).
func BenchmarkExport(b *testing.B) {
	for _, sink := range []string{"file", "otlp"} {
		b.Run("sink="+sink, func(b *testing.B) {
			e := newEnv(b, 65535)
			m := NewManager(e.ring, e.node)
			switch sink {
			case "file":
				if err := m.AddLog(Spec{Name: "bench", FilePath: filepath.Join(b.TempDir(), "flows.log"), FileMaxSizeMB: 100, FileMaxBackups: 1}); err != nil {
					b.Fatal(err)
				}
			case "otlp":
				coll := newCollector(b)
				coll.discard = true
				o := coll.otlp("bench")
				o.BatchSize, o.QueueSize, o.BatchTimeout = DefaultOTLPBatchSize, DefaultOTLPQueueSize, DefaultOTLPBatchTimeout
				o.CallOptions = []grpc.CallOption{grpc.UseCompressor(gzip.Name)}
				if err := m.AddOTLP(o); err != nil {
					b.Fatal(err)
				}
			}
			done := runBench(m)
			defer done()
			var st *Status
			for st == nil {
				st = statusOf(m, "bench")
			}
			recs := benchRecords(e)
			b.ResetTimer()
			cpu := cpuTime(b)
			for i := 0; i < b.N; i++ {
				e.ring.Write(&recs[i%len(recs)])
				if i%4096 == 4095 || i == b.N-1 {
					for want := uint64(i + 1); st.exported.Load() < want; {
						time.Sleep(50 * time.Microsecond)
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/flow")
			if lost := st.dropped[ReasonOverwritten].Load() + st.dropped[ReasonQueueFull].Load(); lost > 0 {
				b.Fatalf("%d flows lost", lost)
			}
		})
	}
}

// runBench runs m until the returned function is called.
func runBench(m *Manager) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// benchRecords are TCP flows between two pods with labels, both ways.
func benchRecords(e *env) []record.Record {
	ep := func(ns, pod string, id uint32) *flowpb.Endpoint {
		return &flowpb.Endpoint{ID: id, Identity: id, Namespace: ns, PodName: pod,
			Labels: []string{"k8s:app=" + pod, "k8s:io.kubernetes.pod.namespace=" + ns}, Workloads: []*flowpb.Workload{{Name: pod, Kind: "Deployment"}}}
	}
	client := e.node.Tables.Endpoints.Intern("shop/client", func() *flowpb.Endpoint { return ep("shop", "client-7d9f", 3001) })
	server := e.node.Tables.Endpoints.Intern("shop/server", func() *flowpb.Endpoint { return ep("shop", "server-5c2a", 3002) })
	recs := make([]record.Record, 256)
	now := time.Now()
	for i := range recs {
		r := record.Record{Kind: record.KindTrace, Proto: record.ProtoTCP, Time: now.Add(time.Duration(i) * time.Microsecond).UnixNano(),
			SrcPort: 40000 + uint16(i), DstPort: 8080, SrcEndpoint: client, DstEndpoint: server, TCPFlags: record.TCPAck | record.TCPPsh,
			ObsPoint: uint8(flowpb.TraceObservationPoint_TO_ENDPOINT), Verdict: uint8(flowpb.Verdict_FORWARDED), Flags: record.FlagReplyKnown}
		r.SetAddrs(netip.MustParseAddr("10.244.1.17"), netip.MustParseAddr("10.244.2.31"))
		recs[i] = r
	}
	return recs
}
