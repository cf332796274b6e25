//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/kube"
)

// promServer is a real Prometheus server a test started in its cluster's
// fabric namespace, scraping the agents' /metrics every second.
type promServer struct {
	addr   string // host:port of its HTTP API, in the fabric namespace
	client *http.Client
}

// startPrometheus runs the prometheus binary (Debian package prometheus) in
// c's fabric namespace, where every node's underlay address is reachable,
// scraping the agents at metricsPort on every node. It stops with ctx.
func startPrometheus(t *testing.T, ctx context.Context, c *cluster.Cluster, stateDir string, metricsPort int) *promServer {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("the prometheus server (Debian package prometheus) is needed; scripts/install-deps.sh installs it: %v", err)
	}
	var targets []string
	for _, n := range c.Topology.Nodes {
		targets = append(targets, strconv.Quote(net.JoinHostPort(n.IPv4.String(), strconv.Itoa(metricsPort))))
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: fovea
    # Retina's series carry their node as instance, which dashboards
    # written for Retina read; Fovea's and Hubble's have no instance of
    # their own and keep the target's.
    honor_labels: true
    static_configs:
      - targets: [%s]
`, strings.Join(targets, ", "))
	dir := filepath.Join(stateDir, "prometheus")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	configPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort(cluster.GatewayV4.String(), "9090")
	p, err := c.Fabric().Start(ctx, cluster.ProcessSpec{
		Name: "prometheus", Path: bin, LogDir: dir,
		Args: []string{"--config.file=" + configPath, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr, "--storage.tsdb.retention.time=1h"},
	})
	if err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	t.Cleanup(func() {
		_ = p.Stop()
		if t.Failed() {
			data, _ := os.ReadFile(p.StderrPath)
			t.Logf("=== prometheus stderr\n%s", data)
		}
	})
	prom := &promServer{addr: addr, client: &http.Client{
		Transport: &http.Transport{DialContext: kube.NetnsDialer(c.Topology.Fabric)}, Timeout: 10 * time.Second,
	}}
	eventually(t, 30*time.Second, func() error {
		resp, err := prom.client.Get("http://" + addr + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("prometheus not ready: %s", resp.Status)
		}
		return nil
	})
	return prom
}

// query evaluates the instant query q and returns its samples' values.
func (p *promServer) query(ctx context.Context, q string) ([]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		"http://"+p.addr+"/api/v1/query?"+url.Values{"query": {q}}.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("query %s: decode: %w", q, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", q, body.Error)
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: a %s, not a vector", q, body.Data.ResultType)
	}
	values := make([]float64, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v: %w", q, r.Value[1], err)
		}
		values = append(values, v)
	}
	return values, nil
}

// waitFor waits until q, a query of one sample, evaluates to want.
func (p *promServer) waitFor(t *testing.T, q string, want float64) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		values, err := p.query(ctx, q)
		if err != nil {
			return err
		}
		if len(values) != 1 || values[0] != want {
			return fmt.Errorf("%s = %v, want %v", q, values, want)
		}
		return nil
	})
}

// waitData waits until q returns data (a filter such as "x > 0" holds),
// or, with want false, until it returns none (the series are gone).
func (p *promServer) waitData(t *testing.T, q string, want bool) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		values, err := p.query(ctx, q)
		if err != nil {
			return err
		}
		if (len(values) > 0) != want {
			return fmt.Errorf("%s = %v, want data: %v", q, values, want)
		}
		return nil
	})
}
