//go:build linux

package bpf

import (
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/model/record"
)

// TestRunReportsLost overflows a one-page ring while Run is reading and
// expects the overflow as KindLost records and in the collector.
func TestRunReportsLost(t *testing.T) {
	requireRoot(t)
	// The reader is never woken early and polls rarely, so the ring fills.
	// Drops and retransmissions elsewhere in the namespace would share it.
	c := startCapture(t, Config{
		Interfaces:             []string{"fovea-test-none"},
		DisableDrops:           true,
		DisableRetransmissions: true,
		Aggregation:            AggregationNone,
		RingBytes:              4096,
		WakeupBytes:            4096,
		FlushInterval:          300 * time.Millisecond,
	})
	frame := ethFrame(0x0800, ipv4Packet("10.9.0.1", "10.9.0.2", 17, udpDatagram(1, 2)))
	const sent = 500
	for range sent {
		runProg(t, c.src.objs.CaptureIngress, frame)
	}
	failed, err := c.src.reserveFailures()
	if err != nil {
		t.Fatal(err)
	}
	if failed == 0 {
		t.Fatal("no reserve failures after overflowing the ring")
	}

	var lost uint64
	deadline := time.Now().Add(3 * time.Second)
	for lost < failed && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		lost = 0
		c.mu.Lock()
		for _, r := range c.recs {
			if r.Kind == record.KindLost {
				if r.LostSource != uint8(flowpb.LostEventSource_PERF_EVENT_RING_BUFFER) {
					t.Fatalf("lost record source %d", r.LostSource)
				}
				lost += uint64(r.Count)
			}
		}
		c.mu.Unlock()
	}
	if lost != failed {
		t.Fatalf("KindLost records count %d, want %d", lost, failed)
	}

	// Test-run packets arrive on an interface the source is not attached
	// to, so each read event is dropped as such, and counted.
	read := float64(sent - failed)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c.src.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	got := map[string]float64{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetValue() + "}"
			}
			got[name] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for name, v := range map[string]float64{
		"bpf_ring_reserve_failures_total":             float64(failed),
		"bpf_events_read_total":                       read,
		"bpf_events_dropped_total{decode}":            0,
		"bpf_events_dropped_total{unknown_interface}": read,
		"bpf_attached_interfaces":                     0,
	} {
		if got[name] != v {
			t.Errorf("metric %s = %v, want %v", name, got[name], v)
		}
	}
	c.stop(t)
}
