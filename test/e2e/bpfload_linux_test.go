//go:build linux

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/traffic"
)

// bpfLoadPrefix is TestBPFLoadRisingRate's own cluster: it floods a pod
// pair, which would disturb the shared cluster's tests.
const bpfLoadPrefix = "fvsoak-"

// bpfLoadMetrics is where its agent serves /metrics, in node1's namespace.
const bpfLoadMetrics = "127.0.0.1:9967"

// TestBPFLoadRisingRate drives the real agent's eBPF path with rising
// rates of UDP datagrams between two pods of a netns node, every packet
// reported (--aggregation=none, four events a datagram: both veths, both
// directions), and reports for each rate the events the programs reported
// and the ones the kernel ring buffer had no room for, with the agent's CPU
// and RSS. It fails if the programs lose events at the lowest rate, or if
// any event is neither read nor counted as a reserve failure. The replay
// source of test/soak takes the pipeline past what veths carry.
func TestBPFLoadRisingRate(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: builds network namespaces and loads eBPF programs")
	}
	fovea := os.Getenv("FOVEA_BIN")
	if fovea == "" {
		t.Fatal("FOVEA_BIN is not set: run the end-to-end tests with `make e2e`")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	if err := cluster.Cleanup(ctx, bpfLoadPrefix, log); err != nil {
		t.Fatal(err)
	}
	c, err := cluster.Build(ctx, cluster.Config{Prefix: bpfLoadPrefix, Nodes: 1, PodsPerNode: 2, StateDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	t.Setenv("FOVEA_AGGREGATION", "none") // the agent inherits it
	_, agent, err := demo.StartAgent(ctx, c, "node1", fovea, 65535, demo.WithMetricsAddress(bpfLoadMetrics))
	if err != nil {
		t.Fatal(err)
	}
	hosts := c.Hosts()
	if _, err := traffic.Serve(ctx, hosts[1], log); err != nil {
		t.Fatal(err)
	}
	conn := dialUDP(t, hosts[0], hosts[1].IPv4)
	go drain(conn)

	var table strings.Builder
	table.WriteString("| datagrams/s | events/s read | ring reserve failures | loss | agent CPU (cores) | RSS MiB |\n|---:|---:|---:|---:|---:|---:|\n")
	for i, rate := range []int{2500, 10000, 40000, 80000, 160000, 320000} {
		read0 := mustMetric(t, c, "node1", bpfLoadMetrics, "fovea_bpf_events_read_total")
		failed0 := mustMetric(t, c, "node1", bpfLoadMetrics, "fovea_bpf_ring_reserve_failures_total")
		cpu0, t0 := processCPU(t, agent.Pid), time.Now()
		sent := 0
		// Sleeps overshoot, so each millisecond catches up with the schedule.
		for ; time.Since(t0) < 3*time.Second; time.Sleep(time.Millisecond) {
			for due := int(time.Since(t0).Seconds() * float64(rate)); sent < due; sent++ {
				if _, err := conn.Write([]byte("ping\n")); err != nil {
					t.Fatal(err)
				}
			}
		}
		wall := time.Since(t0)
		cpu := (processCPU(t, agent.Pid) - cpu0).Seconds() / wall.Seconds()
		// Every event the programs made is read or counted as a reserve
		// failure; read them once the reader's batch deadline has passed.
		// Fewer than four a datagram is the pod's echo server falling
		// behind on a busy machine, not the agent: those packets never
		// existed, or were dropped in the pod (a drop event).
		time.Sleep(500 * time.Millisecond)
		read := mustMetric(t, c, "node1", bpfLoadMetrics, "fovea_bpf_events_read_total") - read0
		failed := mustMetric(t, c, "node1", bpfLoadMetrics, "fovea_bpf_ring_reserve_failures_total") - failed0
		rss := processRSS(t, agent.Pid)
		loss := failed / max(read+failed, 1)
		fmt.Fprintf(&table, "| %d | %.0f | %.0f | %.3f %% | %.2f | %d |\n",
			int(float64(sent)/wall.Seconds()), read/wall.Seconds(), failed, 100*loss, cpu, rss>>20)
		if i == 0 && failed > 0 {
			t.Errorf("%d/s: %.0f events lost at the lowest rate", rate, failed)
		}
		if loss > 0.05 {
			break
		}
	}
	t.Logf("eBPF path, one veth pair, every packet reported:\n%s", table.String())
}

// processRSS is pid's resident set size, from /proc/<pid>/status.
func processRSS(t testing.TB, pid int) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb uint64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}
