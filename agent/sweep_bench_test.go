package agent

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/foveanet/fovea/agent/sweep"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// BenchmarkSweep is one sweep of the agent's tables: scanning a full ring of
// 65,535 records, marking a 10,000-pod index and a DNS cache of 10,000
// addresses, then sweeping (nothing to free: the steady state).
func BenchmarkSweep(b *testing.B) {
	p, tables, store, names, pods := newBenchPipeline(b)
	for i := range 10000 {
		names.Add(netip.AddrFrom4([4]byte{192, 0, byte(i >> 8), byte(i)}), fmt.Sprintf("h%d.example", i), time.Hour, 0)
	}
	for i := range 65535 {
		r := record.Record{Kind: record.KindTrace, Proto: record.ProtoTCP, SrcPort: 40000, DstPort: 80}
		r.SetAddrs(pods[i%len(pods)].IPs[0], pods[(i*7+1)%len(pods)].IPs[0])
		p.emit(&r)
	}
	s, err := sweep.New(tables, []intern.Holder{p, store, names})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Sweep(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSweepParts times the sweep's parts: the ring scan (the writer
// never waits for it), the index (neither), and the DNS cache (the writer's
// names lookups wait for it: it holds the cache's lock).
func BenchmarkSweepParts(b *testing.B) {
	p, tables, store, names, pods := newBenchPipeline(b)
	for i := range 10000 {
		names.Add(netip.AddrFrom4([4]byte{192, 0, byte(i >> 8), byte(i)}), fmt.Sprintf("h%d.example", i), time.Hour, 0)
	}
	for i := range 65535 {
		r := record.Record{Kind: record.KindTrace, Proto: record.ProtoTCP}
		r.SetAddrs(pods[i%len(pods)].IPs[0], pods[(i*7+1)%len(pods)].IPs[0])
		p.emit(&r)
	}
	for _, part := range []struct {
		name string
		h    intern.Holder
	}{{"ring=65535", p}, {"index=10000", store}, {"dnsnames=10000", names}} {
		b.Run(part.name, func(b *testing.B) {
			for b.Loop() {
				part.h.MarkRefs(tables.NewMarks())
			}
		})
	}
}
