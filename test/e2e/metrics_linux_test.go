//go:build linux

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/kube"
)

// scrapeMetrics reads the /metrics an agent or relay serves at addr in the
// node namespace of node, as series ("name{labels}") → value.
func scrapeMetrics(ctx context.Context, c *cluster.Cluster, node, addr string) (map[string]float64, error) {
	n, ok := c.Topology.Node(node)
	if !ok {
		return nil, fmt.Errorf("unknown node %q", node)
	}
	client := &http.Client{Transport: &http.Transport{DialContext: kube.NetnsDialer(n.Netns)}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape metrics on %s: %w", node, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape metrics on %s: %s", node, resp.Status)
	}
	series := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return nil, fmt.Errorf("metrics line %q has no value", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		series[line[:i]] = v
	}
	return series, sc.Err()
}

// metricSum is the sum of the series of metric name, 0 if it has none (a
// vector nothing has counted in yet).
func metricSum(series map[string]float64, name string) float64 {
	var sum float64
	for s, v := range series {
		if rest, ok := strings.CutPrefix(s, name); ok && (rest == "" || rest[0] == '{') {
			sum += v
		}
	}
	return sum
}

// mustMetric scrapes node's addr and returns metricSum of name, failing t
// if it cannot.
func mustMetric(t *testing.T, c *cluster.Cluster, node, addr, name string) float64 {
	t.Helper()
	series, err := scrapeMetrics(t.Context(), c, node, addr)
	if err != nil {
		t.Fatal(err)
	}
	return metricSum(series, name)
}
