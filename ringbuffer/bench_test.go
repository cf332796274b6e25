package ringbuffer_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/cilium/cilium/pkg/hubble/container"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/ringbuffer"
)

// Both rings are sized as Hubble's default (max_flows 65535).
const benchCapacity = 65535

func benchWriteFovea(b *testing.B) {
	r := mustNew[record.Record](b, benchCapacity)
	eps, ifaces := internEndpoints(intern.NewTables())
	rec := foveaRecord(1, &eps, &ifaces)
	b.ReportAllocs()
	for b.Loop() {
		r.Write(&rec)
	}
}

func benchWriteCilium(b *testing.B) {
	r := container.NewRing(container.Capacity65535)
	ev := ciliumEvent(1)
	b.ReportAllocs()
	for b.Loop() {
		r.Write(ev)
	}
}

// BenchmarkWrite compares writing one prebuilt entry into each ring. The
// Cilium run also reports Fovea's time per write as a fraction of Cilium's
// (fovea/cilium), so that the ratio comes from one run.
func BenchmarkWrite(b *testing.B) {
	var fovea float64
	b.Run("ring=fovea", func(b *testing.B) {
		benchWriteFovea(b)
		fovea = perOp(b)
	})
	b.Run("ring=cilium", func(b *testing.B) {
		benchWriteCilium(b)
		b.ReportMetric(fovea/perOp(b), "fovea/cilium")
	})
}

// perOp returns the nanoseconds per iteration b measured.
func perOp(b *testing.B) float64 { return float64(b.Elapsed().Nanoseconds()) / float64(b.N) }

// retained returns the live heap that fill's result holds, per flow.
func retained(fill func() any, flows uint64) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	kept := fill()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(kept)
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(flows)
}

// BenchmarkRetained fills each ring with distinct enriched flows and reports
// the heap it retains per flow held. Fovea's figure includes the intern
// tables, shared by all flows. The Cilium run also reports how many times
// more it retains (cilium/fovea).
func BenchmarkRetained(b *testing.B) {
	var fovea float64
	b.Run("ring=fovea", func(b *testing.B) {
		var sum float64
		for b.Loop() {
			sum += retained(func() any {
				tables := intern.NewTables()
				eps, ifaces := internEndpoints(tables)
				r := mustNew[record.Record](b, benchCapacity)
				for i := range benchCapacity + 1 {
					rec := foveaRecord(i, &eps, &ifaces)
					r.Write(&rec)
				}
				return []any{r, tables}
			}, benchCapacity)
		}
		fovea = sum / float64(b.N)
		b.ReportMetric(fovea, "bytes/flow")
	})
	b.Run("ring=cilium", func(b *testing.B) {
		var sum float64
		for b.Loop() {
			sum += retained(func() any {
				r := container.NewRing(container.Capacity65535)
				for i := range benchCapacity + 1 {
					r.Write(ciliumEvent(i))
				}
				return r
			}, benchCapacity)
		}
		b.ReportMetric(sum/float64(b.N), "bytes/flow")
		b.ReportMetric(sum/float64(b.N)/fovea, "cilium/fovea")
	})
}

// fullRing returns a ring holding benchCapacity records.
func fullRing(b *testing.B) *ringbuffer.Ring[record.Record] {
	r := mustNew[record.Record](b, benchCapacity)
	eps, ifaces := internEndpoints(intern.NewTables())
	for i := range benchCapacity {
		rec := foveaRecord(i, &eps, &ifaces)
		r.Write(&rec)
	}
	return r
}

// BenchmarkRead measures reads of a full ring, without a writer, by one and
// by 16 concurrent readers; ns/op is wall time per read, all readers together.
func BenchmarkRead(b *testing.B) {
	for _, readers := range []int{1, 16} {
		b.Run("readers="+strconv.Itoa(readers), func(b *testing.B) {
			r := fullRing(b)
			// RunParallel starts parallelism*GOMAXPROCS goroutines;
			// one reader needs no RunParallel at all.
			b.SetParallelism(max(1, readers/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			b.ResetTimer()
			if readers == 1 {
				for seq := uint64(0); b.Loop(); seq = (seq + 1) % benchCapacity {
					readOrFail(b, r, seq)
				}
				return
			}
			b.RunParallel(func(pb *testing.PB) {
				for seq := uint64(0); pb.Next(); seq = (seq + 1) % benchCapacity {
					readOrFail(b, r, seq)
				}
			})
		})
	}
}

func readOrFail(b *testing.B, r *ringbuffer.Ring[record.Record], seq uint64) {
	var rec record.Record
	if err := r.Read(seq, &rec); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFollow measures followers keeping up with a writer: ns/op is per
// entry written, read/op and lost/op are per follower and entry written.
func BenchmarkFollow(b *testing.B) {
	for _, followers := range []int{1, 16} {
		b.Run("followers="+strconv.Itoa(followers), func(b *testing.B) {
			r := fullRing(b)
			eps, ifaces := internEndpoints(intern.NewTables())
			rec := foveaRecord(1, &eps, &ifaces)
			start := r.Head()
			var (
				wg         sync.WaitGroup
				mu         sync.Mutex
				read, lost uint64
			)
			b.ResetTimer()
			for range followers {
				wg.Go(func() {
					rd := r.NewReader(start)
					var dst record.Record
					var n, skipped uint64
					for last := start + uint64(b.N) - 1; ; {
						seq, l, err := rd.Next(context.Background(), &dst, true)
						if err != nil {
							b.Error(err)
							return
						}
						n, skipped = n+1, skipped+l
						if seq == last {
							break
						}
					}
					mu.Lock()
					read, lost = read+n, lost+skipped
					mu.Unlock()
				})
			}
			for range b.N {
				r.Write(&rec)
			}
			wg.Wait()
			b.ReportMetric(float64(read)/float64(followers)/float64(b.N), "read/op")
			b.ReportMetric(float64(lost)/float64(followers)/float64(b.N), "lost/op")
		})
	}
}
