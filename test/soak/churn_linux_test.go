//go:build linux

package soak

import (
	"strconv"
	"testing"
	"time"

	"github.com/foveanet/fovea/test/demo"
)

// TestMemoryBoundUnderChurn runs the agent at a steady rate for
// soakDuration while every second its pods are renamed on their addresses
// (new endpoints, addresses reused) and a fifth of them deleted, with Hubble
// metrics labelled by pod (new series every second). Its RSS must stay
// under the memory limit it was given plus the ring's size (and the replay
// source's queue), and the intern tables must not grow with the churn.
func TestMemoryBoundUnderChurn(t *testing.T) {
	const (
		rate, pods, ring = 50000, 500, 65535
		memLimit         = 128 << 20
		// ringBytes is the ring and its L7 store beside it: 104 bytes a
		// record, one L7 slot each (a pointer and a sequence number).
		ringBytes = (ring + 1) * (104 + 16)
		// queueBytes is the replay source's queue, full while the pipeline
		// is starved: the kernel ring buffer's stand-in, kernel memory on
		// a node rather than the agent's.
		queueBytes = (1 << 16) * 104
	)
	d := soakDuration(t)
	a := startAgent(t, agentOpts{rate: rate, pods: pods, ringCapacity: ring,
		env: []string{"GOMEMLIMIT=" + strconv.Itoa(memLimit)},
		args: []string{
			"--inventory-interval=250ms", "--intern-sweep-interval=2s",
			"--metrics=flow:sourceContext=pod;destinationContext=pod drop:sourceContext=pod tcp:sourceContext=pod",
			"--metrics-series-ttl=30s", "--metrics-series-limit=20000",
		}})
	bound := uint64(memLimit + ringBytes + queueBytes)
	start, s0 := time.Now(), a.stats(t)
	var peak uint64
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for round := 0; time.Since(start) < d; round++ {
		<-tick.C
		if err := demo.WriteInventory(a.inventory, churnedInventory(pods, round)); err != nil {
			t.Fatal(err)
		}
		st := a.stats(t)
		peak = max(peak, st.rssBytes)
		if st.rssBytes > bound {
			t.Fatalf("round %d: RSS %d MiB over the bound of %d MiB (GOMEMLIMIT %d MiB + ring %d MiB + replay queue %d MiB)",
				round, st.rssBytes>>20, bound>>20, memLimit>>20, ringBytes>>20, queueBytes>>20)
		}
		if round%30 == 0 {
			m := a.scrape(t)
			t.Logf("%4ds: RSS %3d MiB, intern entries %.0f (freed %.0f), metric series dropped %.0f, records lost %.0f",
				int(time.Since(start).Seconds()), st.rssBytes>>20, m["fovea_intern_entries"], m["fovea_intern_freed_total"],
				m["fovea_metrics_series_dropped_total"], m["fovea_replay_records_lost_total"])
		}
	}
	s1, m := a.stats(t), a.scrape(t)
	t.Logf("%v of churn at %d records/s: RSS %d MiB at the end, peak %d MiB (VmHWM %d MiB), bound %d MiB; agent %.2f cores",
		d.Round(time.Second), rate, s1.rssBytes>>20, peak>>20, s1.hwmBytes>>20, bound>>20, cores(s0, s1))
	if m["fovea_intern_freed_total"] == 0 {
		t.Error("no interned value was freed: the sweep does not keep up with the churn")
	}
	// Loss is TestLoadRisingRate's measure; over an hour on a shared
	// machine the pipeline may be starved of CPU for a while. What it lost
	// must be counted: produced = emitted + lost + still queued.
	produced, emitted, lost := m["fovea_replay_records_produced_total"], m["fovea_replay_records_emitted_total"], m["fovea_replay_records_lost_total"]
	if held := produced - emitted - lost; held < 0 || held > 1<<16 {
		t.Errorf("%.0f records produced, %.0f emitted, %.0f lost: %.0f unaccounted", produced, emitted, lost, held)
	}
	t.Logf("records: %.0f produced, %.0f lost (%.4f %%)", produced, lost, 100*lost/max(produced, 1))
	t.Logf("metrics: %.0f flows the handlers' queue had no room for, %.0f series over the limit",
		m["fovea_metrics_flows_dropped_total"], m["fovea_metrics_series_dropped_total"])
}
