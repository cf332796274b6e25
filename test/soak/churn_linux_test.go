//go:build linux

package soak

import (
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/replay"
)

// recordBytes is the size of a record in the ring and the replay queue.
const recordBytes = int(unsafe.Sizeof(record.Record{}))

// TestMemoryBoundUnderChurn runs the agent at a steady rate for
// soakDuration while every second its pods are renamed on their addresses
// (new endpoints, addresses reused) and a fifth of them deleted, one record
// in dnsEvery is a DNS response naming the pods' addresses with names that
// change every second, and Hubble metrics are labelled by pod and by DNS query
// (new series every second). What it allocated, its anonymous RSS, must
// stay under the memory limit it was given plus the ring's size (and the
// replay source's queue), and neither the intern tables nor the DNS names
// cache may grow with the churn. The pages of its binary that the kernel
// maps from the file (38–45 MiB of this test binary, from run to run) are
// shared and reclaimable, and are logged, not bounded.
func TestMemoryBoundUnderChurn(t *testing.T) {
	const (
		rate, pods, ring = 50000, 500, 65535
		dnsEvery         = 50
		memLimit         = 96 << 20
		// ringBytes is the ring and its L7 store beside it: a record and
		// an L7 slot (a pointer and a sequence number) each.
		ringBytes = (ring + 1) * (recordBytes + 16)
		// queueBytes is the replay source's queue, full while the pipeline
		// is starved: the kernel ring buffer's stand-in, kernel memory on
		// a node rather than the agent's.
		queueBytes = replayQueue * recordBytes
	)
	d := soakDuration(t)
	a := startAgent(t, agentOpts{rate: rate, pods: pods, ringCapacity: ring, dnsEvery: dnsEvery,
		env: []string{"GOMEMLIMIT=" + strconv.Itoa(memLimit)},
		args: []string{
			"--inventory-interval=250ms", "--intern-sweep-interval=2s",
			"--metrics=flow:sourceContext=pod;destinationContext=pod drop:sourceContext=pod tcp:sourceContext=pod " +
				"dns:query",
			"--metrics-series-ttl=30s", "--metrics-series-limit=20000",
		}})
	bound := uint64(memLimit + ringBytes + queueBytes)
	start, s0 := time.Now(), a.stats(t)
	var peak, peakAnon uint64
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for round := 0; time.Since(start) < d; round++ {
		<-tick.C
		if err := demo.WriteInventory(a.inventory, churnedInventory(pods, round)); err != nil {
			t.Fatal(err)
		}
		st := a.stats(t)
		peak, peakAnon = max(peak, st.rssBytes), max(peakAnon, st.anonBytes)
		if st.anonBytes > bound {
			t.Fatalf("round %d: anonymous RSS %d MiB over the bound of %d MiB (GOMEMLIMIT %d MiB + ring %d MiB + replay queue %d MiB)",
				round, st.anonBytes>>20, bound>>20, memLimit>>20, ringBytes>>20, queueBytes>>20)
		}
		if round%30 == 0 {
			m := a.scrape(t)
			t.Logf("%4ds: RSS %3d MiB (anonymous %3d MiB), intern entries %.0f (freed %.0f), DNS cache %.0f addresses, metric series dropped %.0f, records lost %.0f",
				int(time.Since(start).Seconds()), st.rssBytes>>20, st.anonBytes>>20, m["fovea_intern_entries"], m["fovea_intern_freed_total"],
				m["fovea_dns_names_cache_entries"], m["fovea_metrics_series_dropped_total"], m["fovea_replay_records_lost_total"])
			if n := m["fovea_dns_names_cache_entries"]; n > pods {
				t.Fatalf("round %d: the DNS names cache holds %.0f addresses, over the %d the responses name", round, n, pods)
			}
		}
	}
	s1, m := a.stats(t), a.scrape(t)
	t.Logf("%v of churn at %d records/s: anonymous RSS %d MiB at the end, peak %d MiB, bound %d MiB; RSS %d MiB at the end, peak %d MiB (VmHWM %d MiB); agent %.2f cores",
		d.Round(time.Second), rate, s1.anonBytes>>20, peakAnon>>20, bound>>20, s1.rssBytes>>20, peak>>20, s1.hwmBytes>>20, cores(s0, s1))
	if m["fovea_intern_freed_total"] == 0 {
		t.Error("no interned value was freed: the sweep does not keep up with the churn")
	}
	// The responses answer the pods' addresses only, so new names replace
	// old ones within each address's list (at most 32) and add no entry.
	if m["fovea_dns_messages_total"] == 0 || m["hubble_dns_responses_total"] == 0 {
		t.Errorf("no DNS response decoded (%.0f messages, %.0f in hubble_dns_responses_total)",
			m["fovea_dns_messages_total"], m["hubble_dns_responses_total"])
	}
	if n := m["fovea_dns_names_cache_entries"]; n > pods {
		t.Errorf("the DNS names cache holds %.0f addresses, over the %d the responses name", n, pods)
	}
	// Loss is TestLoadRisingRate's measure; over an hour on a shared
	// machine the pipeline may be starved of CPU for a while. What it lost
	// must be counted: produced = emitted + lost + still queued.
	produced, emitted, lost := m["fovea_replay_records_produced_total"], m["fovea_replay_records_emitted_total"], m["fovea_replay_records_lost_total"]
	if held := produced - emitted - lost; held < 0 || held > float64(replay.MaxHeld(replayQueue)) {
		t.Errorf("%.0f records produced, %.0f emitted, %.0f lost: %.0f unaccounted", produced, emitted, lost, held)
	}
	t.Logf("records: %.0f produced, %.0f lost (%.4f %%)", produced, lost, 100*lost/max(produced, 1))
	t.Logf("metrics: %.0f flows the handlers' queue had no room for, %.0f series over the limit",
		m["fovea_metrics_flows_dropped_total"], m["fovea_metrics_series_dropped_total"])
}
