//go:build linux

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foveanet/fovea/agent/inventory"
	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/traffic"
)

const (
	churnPrefix  = "foveachrn-"
	churnMetrics = "127.0.0.1:9965"
	// churnGhosts pods without traffic are replaced by new ones on each
	// rewrite of the inventory, so that freed endpoints dominate.
	churnGhosts = 200
	churnRounds = 60
)

// churnInventory is round's inventory: the cluster's pods renamed on their
// own addresses, plus ghost pods renamed on theirs.
func churnInventory(top cluster.Topology, round int) *inventory.File {
	f := demo.Inventory(top)
	for i := range f.Pods {
		f.Pods[i].Name = churnName(f.Pods[i].Name, round)
	}
	for i := range churnGhosts {
		f.Pods = append(f.Pods, inventory.Pod{
			Namespace: "ghosts",
			Name:      fmt.Sprintf("ghost-%d-%d", round, i),
			Labels:    map[string]string{"app": fmt.Sprintf("ghost-%d", round)},
			IPs:       []string{netip.AddrFrom4([4]byte{10, 250, byte(i / 250), byte(i%250 + 1)}).String()},
		})
	}
	return f
}

func churnName(name string, round int) string { return fmt.Sprintf("%s-r%d", name, round) }

// TestInternTablesUnderInventoryChurn rewrites the inventory of real agents
// again and again, renaming every pod on its address and replacing 200
// ghost pods, while traffic flows. The real hubble CLI then shows new flows
// with the current pod names, and each agent's metrics show endpoints freed
// and the endpoints table back to what is in use.
func TestInternTablesUnderInventoryChurn(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: builds network namespaces and loads eBPF programs")
	}
	fovea, hubble := os.Getenv("FOVEA_BIN"), os.Getenv("HUBBLE_BIN")
	if fovea == "" || hubble == "" {
		t.Fatal("FOVEA_BIN or HUBBLE_BIN is not set: run the end-to-end tests with `make e2e`")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := cluster.Cleanup(ctx, churnPrefix, log); err != nil {
		t.Fatalf("clean up an earlier run: %v", err)
	}
	stateDir := t.TempDir()
	c, err := cluster.Build(ctx, cluster.Config{Prefix: churnPrefix, Nodes: 2, PodsPerNode: 2, StateDir: stateDir, Logger: log})
	if err != nil {
		t.Fatalf("build cluster: %v", err)
	}
	life, stop := context.WithCancel(ctx)
	t.Cleanup(func() {
		stop()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Errorf("close cluster: %v", err)
		}
	})
	top := c.Topology
	inv := filepath.Join(stateDir, "inventory.yaml")
	if err := demo.WriteInventory(inv, churnInventory(top, 0)); err != nil {
		t.Fatal(err)
	}
	sockets, err := demo.StartAgents(life, c, fovea, 1023, demo.WithInventory(inv),
		demo.WithMetricsAddress(churnMetrics), demo.WithAgentArgs("--intern-sweep-interval=300ms"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{cluster: c, sockets: map[string]string{}, hosts: c.Hosts(), fovea: fovea, hubbleBin: hubble, inventory: inv}
	for i, n := range top.Nodes {
		e.sockets[n.Name] = sockets[i]
	}
	for _, h := range e.hosts {
		if _, err := traffic.Serve(life, h, log); err != nil {
			t.Fatalf("serve on %s: %v", h.Name, err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range top.Nodes {
				data, _ := os.ReadFile(filepath.Join(c.NodeStateDir(n.Name), "agent.stderr.log"))
				t.Logf("=== %s agent.stderr.log\n%s", n.Name, data)
			}
		}
	})
	// reloads returns the fewest successful inventory loads of the agents.
	reloads := func() (float64, error) {
		least := -1.0
		for _, n := range top.Nodes {
			m, err := scrapeMetrics(ctx, c, n.Name, churnMetrics)
			if err != nil {
				return 0, err
			}
			v, _ := m.value("fovea_inventory_reloads_total", "result", "success")
			if least < 0 || v < least {
				least = v
			}
		}
		return least, nil
	}

	// Traffic flows between pods on both nodes throughout.
	var wg sync.WaitGroup
	trafficCtx, stopTraffic := context.WithCancel(ctx)
	for _, pair := range [][2]int{{0, 2}, {3, 1}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for trafficCtx.Err() == nil {
				_, _ = traffic.TCPShort(trafficCtx, e.hosts[pair[0]], e.hosts[pair[1]], traffic.IPv4)
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	base, err := reloads()
	if err != nil {
		stopTraffic()
		t.Fatal(err)
	}
	began := time.Now()
	for round := 1; round <= churnRounds; round++ {
		if err := demo.WriteInventory(inv, churnInventory(top, round)); err != nil {
			stopTraffic()
			t.Fatal(err)
		}
		// Each rewrite is loaded before the next, so every round's pods
		// are interned.
		eventually(t, 10*time.Second, func() error {
			n, err := reloads()
			if err == nil && n < base+float64(round) {
				err = fmt.Errorf("agents loaded %v inventories, want %v", n, base+float64(round))
			}
			return err
		})
	}
	stopTraffic()
	wg.Wait()
	t.Logf("%d inventories of %d pods loaded in %v", churnRounds, len(top.Pods())+churnGhosts, time.Since(began).Round(time.Millisecond))

	// New flows carry the current names, on both ends, on both agents.
	src, dst := e.hosts[0], e.hosts[2]
	srcPod, _ := top.Pod(src.Name)
	dstPod, _ := top.Pod(dst.Name)
	wantSrc, wantDst := churnName(srcPod.Name, churnRounds), churnName(dstPod.Name, churnRounds)
	conn, err := traffic.TCPShort(ctx, src, dst, traffic.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	for _, sock := range uniq(e.sockets[srcPod.Node], e.sockets[dstPod.Node]) {
		eventually(t, 10*time.Second, func() error {
			requests, _ := connFlows(conn, e.observeJSON(t, sock, "--last", "100000", "--port", strconv.Itoa(int(conn.Src.Port))))
			if len(requests) == 0 {
				return fmt.Errorf("%s: no request flows of %v", sock, conn)
			}
			for _, f := range requests {
				if got, got2 := f.GetSource().GetPodName(), f.GetDestination().GetPodName(); got != wantSrc || got2 != wantDst {
					return fmt.Errorf("%s: flow from %q to %q, want %q to %q", sock, got, got2, wantSrc, wantDst)
				}
				// The interfaces the datapath captures on stay interned
				// however long ago they were attached.
				if f.GetInterface().GetName() == "" {
					return fmt.Errorf("%s: flow %s has no interface", sock, f.GetUuid())
				}
			}
			return nil
		})
	}

	// Flows of earlier rounds still in the ring keep the names their pods
	// had: never unknown (the ring holds them), never another pod's.
	old := 0
	for _, f := range e.observeJSON(t, e.sockets[srcPod.Node], "--last", "100000", "--from-ip", src.IPv4.String(), "--to-ip", dst.IPv4.String()) {
		name := f.GetSource().GetPodName()
		round, err := strconv.Atoi(strings.TrimPrefix(name, srcPod.Name+"-r"))
		if err != nil || round < 0 || round > churnRounds {
			t.Fatalf("flow %s names source %q, want %s of some round", f.GetUuid(), name, churnName(srcPod.Name, 0))
		}
		if round < churnRounds {
			old++
		}
	}
	t.Logf("%d flows of earlier rounds keep their pod names", old)
	if old == 0 {
		t.Error("no flow of an earlier round left in the ring: the test checks nothing of them")
	}

	// Pods of earlier rounds are freed once no record in the ring names
	// them: what stays is the current inventory, the pods the ring's
	// records name, and at most the last few sweeps' leftovers.
	issued := float64(churnRounds+1) * float64(len(top.Pods())+churnGhosts)
	for _, n := range top.Nodes {
		eventually(t, 10*time.Second, func() error {
			m, err := scrapeMetrics(ctx, c, n.Name, churnMetrics)
			if err != nil {
				return err
			}
			held, _ := m.value("fovea_intern_entries", "table", "endpoints")
			freed, _ := m.value("fovea_intern_freed_total", "table", "endpoints")
			limit := float64(len(top.Pods())*(churnRounds+1) + churnGhosts + 10)
			t.Logf("%s: endpoints held %v, freed %v, of %v interned", n.Name, held, freed, issued)
			if freed < issued-limit || held > limit {
				return fmt.Errorf("%s: %v endpoints held and %v freed; want at most %v held", n.Name, held, freed, limit)
			}
			if sweeps, _ := m.value("fovea_intern_sweep_duration_seconds"); sweeps == 0 {
				return fmt.Errorf("%s: no sweep reported", n.Name)
			}
			return nil
		})
	}
}
