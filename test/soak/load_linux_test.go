//go:build linux

package soak

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/foveanet/fovea/test/replay"
)

// loadStep is one rate of TestLoadRisingRate.
type loadStep struct {
	rate           float64
	produced, lost float64
	cores          float64
	rssMiB, hwmMiB float64
	unaccounted    float64
}

func (s loadStep) lossRatio() float64 {
	if s.produced == 0 {
		return 0
	}
	return s.lost / s.produced
}

// TestLoadRisingRate drives the agent at rising rates until the pipeline
// cannot keep up, and reports the highest rate with no loss and with at
// most 1 % loss, with the agent's CPU and memory at each. The replay
// source's queue stands in for the kernel ring buffer: what it had no room
// for is what the eBPF source would have lost.
func TestLoadRisingRate(t *testing.T) {
	step := 3 * time.Second
	rates := []float64{50e3, 200e3, 800e3, 1.6e6, 2.4e6, 3.2e6, 6.4e6}
	if long(t) {
		step = 20 * time.Second
		rates = []float64{50e3, 100e3, 200e3, 400e3, 800e3, 1.2e6, 1.6e6, 2.4e6, 3.2e6, 4.8e6, 6.4e6}
	}
	var steps []loadStep
	for _, rate := range rates {
		s := runLoadStep(t, rate, step)
		if t.Failed() {
			return
		}
		steps = append(steps, s)
		t.Logf("%9.0f/s: loss %.3f%% (%.0f of %.0f), %.2f cores, RSS %.0f MiB (peak %.0f)",
			rate, 100*s.lossRatio(), s.lost, s.produced, s.cores, s.rssMiB, s.hwmMiB)
		if s.unaccounted != 0 {
			t.Errorf("%.0f/s: %.0f records unaccounted for (produced = emitted + lost + queued)", rate, s.unaccounted)
		}
		if s.lossRatio() > 0.05 {
			break
		}
	}
	var zero, onePercent float64
	for _, s := range steps {
		if s.lost == 0 {
			zero = max(zero, s.rate)
		}
		if s.lossRatio() <= 0.01 {
			onePercent = max(onePercent, s.rate)
		}
	}
	t.Logf("highest rate without loss: %.0f/s; with at most 1%% loss: %.0f/s", zero, onePercent)
	t.Logf("table:\n%s", loadTable(steps))
	if zero < rates[0] {
		t.Fatalf("the agent lost records at %.0f/s", rates[0])
	}
}

// runLoadStep runs a fresh agent at rate for d, measured after its start.
func runLoadStep(t *testing.T, rate float64, d time.Duration) loadStep {
	t.Helper()
	var s loadStep
	t.Run(fmt.Sprintf("%.0f", rate), func(t *testing.T) {
		a := startAgent(t, agentOpts{rate: rate})
		m0, p0 := a.scrape(t), a.stats(t)
		time.Sleep(d) // the measurement window
		m1, p1 := a.scrape(t), a.stats(t)
		s = loadStep{
			rate:     rate,
			produced: m1["fovea_replay_records_produced_total"] - m0["fovea_replay_records_produced_total"],
			lost:     m1["fovea_replay_records_lost_total"] - m0["fovea_replay_records_lost_total"],
			cores:    cores(p0, p1),
			rssMiB:   float64(p1.rssBytes) / (1 << 20), hwmMiB: float64(p1.hwmBytes) / (1 << 20),
		}
		// Every record made is emitted, lost or still held by the source.
		held := m1["fovea_replay_records_produced_total"] - m1["fovea_replay_records_emitted_total"] - m1["fovea_replay_records_lost_total"]
		if held < 0 || held > float64(replay.MaxHeld(replayQueue)) {
			s.unaccounted = held
		}
	})
	return s
}

func loadTable(steps []loadStep) string {
	var b strings.Builder
	b.WriteString("| records/s | lost | loss | agent CPU (cores) | RSS MiB | peak RSS MiB |\n|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range steps {
		fmt.Fprintf(&b, "| %.0f | %.0f | %.3f %% | %.2f | %.0f | %.0f |\n", s.rate, s.lost, 100*s.lossRatio(), s.cores, s.rssMiB, s.hwmMiB)
	}
	return b.String()
}
