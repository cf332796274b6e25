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

// BenchmarkHTTPFlows sends HTTP requests at a set rate from a pod on one
// node to a Go server on the other, on httpBenchConns keep-alive
// connections for httpBenchTime, and reports the rate the client reached,
// the L7 flows per second each agent made of it, and what was lost on the
// way: segments the per-CPU rate limit refused, events the kernel ring had
// no room for, requests without their two flows on each agent. The highest
// rate with zero loss is the figure docs/benchmarks.md quotes.
func BenchmarkHTTPFlows(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: builds network namespaces and loads eBPF programs")
	}
	fovea := os.Getenv("FOVEA_BIN")
	if fovea == "" {
		b.Fatal("FOVEA_BIN is not set: run with `make build` and FOVEA_BIN=.bin/fovea")
	}
	const (
		prefix      = "fvhttq-"
		metricsAddr = "127.0.0.1:9965"
	)
	// The agent's default per-CPU limit, and one no rate reaches: the
	// agent's own capacity.
	for _, limit := range []int{0, 1 << 24} {
		name := "limit=default"
		if limit > 0 {
			name = fmt.Sprintf("limit=%d", limit)
		}
		b.Run(name, func(b *testing.B) { benchHTTPFlows(b, fovea, prefix, metricsAddr, limit) })
	}
}

// benchHTTPFlows is BenchmarkHTTPFlows with agents whose
// --http-rate-limit is limit (0: the default).
func benchHTTPFlows(b *testing.B, fovea, prefix, metricsAddr string, limit int) {
	var args []string
	if limit > 0 {
		args = append(args, fmt.Sprintf("--http-rate-limit=%d", limit))
	}
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
	if _, err := demo.StartAgents(ctx, c, fovea, 65535, demo.WithInventory(inv), demo.WithMetricsAddress(":9965"), demo.WithAgentArgs(args...)); err != nil {
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
	for _, rate := range []int{2000, 5000, 8000, 12000, 0} {
		name := fmt.Sprintf("rate=%d", rate)
		if rate == 0 {
			name = "rate=max"
		}
		b.Run(name, func(b *testing.B) {
			before := httpLoss(ctx, b, c, metricsAddr)
			var sent atomic.Uint64
			b.ResetTimer()
			for range b.N {
				sendAt(b, hc, url, rate, &sent)
			}
			elapsed := b.Elapsed()
			b.StopTimer()
			// Wait until both agents read all the kernel sent: their
			// counts stop moving.
			want := float64(sent.Load())
			var after [2]httpCounts
			for i := range 50 {
				after = httpLoss(ctx, b, c, metricsAddr)
				if i > 0 && after == httpLoss(ctx, b, c, metricsAddr) {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			var lost float64
			for n := range after {
				d := after[n].minus(before[n])
				lost += d.dropped + max(0, 2*want-d.requests-d.responses)
			}
			b.ReportMetric(want/elapsed.Seconds(), "req/s")
			b.ReportMetric(2*want/elapsed.Seconds(), "L7-flows/s/agent")
			b.ReportMetric(lost, "lost")
		})
	}
}

const (
	httpBenchConns = 32
	httpBenchTime  = 5 * time.Second
)

// sendAt sends GETs to url on httpBenchConns connections for httpBenchTime,
// rate a second in all (0: as fast as they are answered), counting them.
func sendAt(b *testing.B, hc *http.Client, url string, rate int, sent *atomic.Uint64) {
	start := time.Now()
	var wg sync.WaitGroup
	for w := range httpBenchConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Since(start) < httpBenchTime; i++ {
				if rate > 0 {
					// Request i of this worker is due at this time.
					due := start.Add(time.Duration(float64(i*httpBenchConns+w) / float64(rate) * float64(time.Second)))
					time.Sleep(time.Until(due))
				}
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

// httpCounts are an agent's HTTP flows and losses.
type httpCounts struct{ requests, responses, dropped float64 }

func (a httpCounts) minus(b httpCounts) httpCounts {
	return httpCounts{a.requests - b.requests, a.responses - b.responses, a.dropped - b.dropped}
}

// httpLoss reads both agents' counts.
func httpLoss(ctx context.Context, b *testing.B, c *cluster.Cluster, addr string) [2]httpCounts {
	var out [2]httpCounts
	for i, n := range c.Topology.Nodes {
		m, err := scrapeMetrics(ctx, c, n.Name, addr)
		if err != nil {
			b.Fatal(err)
		}
		out[i].requests, _ = m.value("fovea_http_messages_total", "type", "request")
		out[i].responses, _ = m.value("fovea_http_messages_total", "type", "response")
		out[i].dropped = m.sum("fovea_bpf_http_snippets_refused_total") + m.sum("fovea_bpf_ring_reserve_failures_total") +
			m.sum("fovea_http_requests_unanswered_total") + m.sum("fovea_http_responses_unmatched_total")
	}
	return out
}
