package replay

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

func TestNewRejects(t *testing.T) {
	pods := []netip.Addr{netip.MustParseAddr("10.2.0.1")}
	for _, cfg := range []Config{{Rate: 0, Pods: pods, QueueRecords: 1024}, {Rate: 1, QueueRecords: 1024}, {Rate: 1, Pods: pods, QueueRecords: 1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// TestSlowConsumerLosesAndReports: a consumer slower than the rate loses
// records without slowing the producer, every record is emitted or lost or
// queued, and the losses reach the consumer as a LostEvent record.
func TestSlowConsumerLosesAndReports(t *testing.T) {
	src, err := New(Config{Rate: 100e3, Pods: []netip.Addr{netip.MustParseAddr("10.2.0.1"), netip.MustParseAddr("fd00::1")}, QueueRecords: 256})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var reported atomic.Uint64
	var seen uint64
	var v6 bool
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(r *record.Record) {
			if r.Kind == record.KindLost {
				if r.LostSource != uint8(flowpb.LostEventSource_PERF_EVENT_RING_BUFFER) {
					t.Errorf("lost source %d", r.LostSource)
				}
				reported.Add(uint64(r.Count))
				return
			}
			seen++
			v6 = v6 || r.Flags&record.FlagIPv6 != 0
			time.Sleep(20 * time.Microsecond) // at most 50k a second
		})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for reported.Load() == 0 || src.Counts().Produced < 100e3 {
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	n := src.Counts()
	if r := reported.Load(); n.Lost == 0 || r == 0 || r > n.Lost {
		t.Fatalf("counts %+v, reported lost %d", n, r)
	}
	if n.Emitted != seen || n.Produced < n.Emitted+n.Lost || n.Produced-n.Emitted-n.Lost > 256 {
		t.Fatalf("counts %+v, %d emitted: records unaccounted", n, seen)
	}
	if !v6 {
		t.Fatal("no IPv6 record")
	}
}
