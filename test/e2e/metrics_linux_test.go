//go:build linux

package e2e

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/kube"
)

// scrape is one scrape of /metrics: its metric families by name.
type scrape map[string]*dto.MetricFamily

// scrapeMetrics reads the /metrics an agent or relay serves at addr in the
// node namespace of node.
func scrapeMetrics(ctx context.Context, c *cluster.Cluster, node, addr string) (scrape, error) {
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
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parse metrics of %s: %w", node, err)
	}
	return families, nil
}

// value is the value of the series of metric name whose labels are exactly
// labels (name, value, name, value...), a histogram's being its count, and
// whether there is one.
func (s scrape) value(name string, labels ...string) (float64, bool) {
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, m := range s[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if maps.Equal(got, want) {
			return sample(m), true
		}
	}
	return 0, false
}

// sum is the sum of the series of metric name, 0 if it has none (a vector
// nothing has counted in yet).
func (s scrape) sum(name string) float64 {
	var sum float64
	for _, m := range s[name].GetMetric() {
		sum += sample(m)
	}
	return sum
}

// sample is a series' value: a counter's, a gauge's, or a histogram's count.
func sample(m *dto.Metric) float64 {
	return m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue() +
		float64(m.GetHistogram().GetSampleCount())
}

// mustMetric scrapes node's addr and returns the sum of the series of
// metric name, failing t if it cannot.
func mustMetric(t *testing.T, c *cluster.Cluster, node, addr, name string) float64 {
	t.Helper()
	m, err := scrapeMetrics(t.Context(), c, node, addr)
	if err != nil {
		t.Fatal(err)
	}
	return m.sum(name)
}
