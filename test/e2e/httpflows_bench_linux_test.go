//go:build linux

package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/kube"
)

// BenchmarkHTTPFlows sends as many HTTP requests as a Go client on
// httpBenchConns keep-alive connections gets answered in httpBenchTime,
// from a pod on one node to a Go server on the other, and reports the
// request rate, the L7 flows per second each agent made of it, and what
// was lost on the way: segments the per-CPU rate refused, events the
// kernel ring had no room for, requests without their pair of flows. Zero
// loss at the reported rate is the figure docs/benchmarks.md quotes.
func BenchmarkHTTPFlows(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: builds network namespaces and loads eBPF programs")
	}
	fovea := os.Getenv("FOVEA_BIN")
	if fovea == "" {
		b.Fatal("FOVEA_BIN is not set: run with `make build` and FOVEA_BIN=.bin/fovea")
	}
	const (
		prefix         = "fvhttq-"
		httpBenchConns = 32
		httpBenchTime  = 5 * time.Second
		metricsAddr    = ":9965"
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	if err := cluster.Cleanup(ctx, prefix, log); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	c, err := cluster.Build(ctx, cluster.Config{Prefix: prefix, Nodes: 2, PodsPerNode: 1, StateDir: dir, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(context.Background())
	inv := filepath.Join(dir, "inventory.yaml")
	if err := demo.WriteInventory(inv, demo.Inventory(c.Topology)); err != nil {
		b.Fatal(err)
	}
	if _, err := demo.StartAgents(ctx, c, fovea, 65535, demo.WithInventory(inv), demo.WithMetricsAddress(metricsAddr)); err != nil {
		b.Fatal(err)
	}
	hosts := c.Hosts()
	client, server := hosts[0], hosts[1]
	serveGo(b, ctx, server)
	clientNS, err := c.PodNetns(client.Name)
	if err != nil {
		b.Fatal(err)
	}
	url := fmt.Sprintf("http://%s:%d/ok", server.IPv4, goHTTPPort)
	tr := &http.Transport{DialContext: kube.NetnsDialer(clientNS.Name()), MaxIdleConnsPerHost: httpBenchConns, MaxConnsPerHost: httpBenchConns}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	var sent atomic.Uint64
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		var wg sync.WaitGroup
		for range httpBenchConns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Since(start) < httpBenchTime {
					resp, err := hc.Get(url)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					sent.Add(1)
				}
			}()
		}
		wg.Wait()
	}
	elapsed := b.Elapsed()
	b.StopTimer()

	// Each agent reports a request and its response once; wait until both
	// have read everything the kernel sent.
	want := float64(sent.Load())
	var lost float64
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range c.Topology.Nodes {
		for {
			m, err := scrapeMetrics(ctx, c, n.Name, "127.0.0.1"+metricsAddr)
			if err != nil {
				b.Fatal(err)
			}
			responses, _ := m.value("fovea_http_messages_total", "type", "response")
			requests, _ := m.value("fovea_http_messages_total", "type", "request")
			dropped := m.sum("fovea_bpf_http_snippets_refused_total") + m.sum("fovea_bpf_ring_reserve_failures_total") +
				m.sum("fovea_http_requests_unanswered_total") + m.sum("fovea_http_responses_unmatched_total")
			if (requests == want && responses == want) || time.Now().After(deadline) {
				lost += dropped + 2*want - requests - responses
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	b.ReportMetric(want/elapsed.Seconds(), "req/s")
	b.ReportMetric(2*want/elapsed.Seconds(), "L7-flows/s/agent")
	b.ReportMetric(lost, "lost")
}
