package relay

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/foveanet/fovea/api/kubeclient"
	"github.com/foveanet/fovea/api/metrics"
	"github.com/foveanet/fovea/api/metrics/metricstest"
)

// TestMetricsGolden lists every series the relay exposes, with
// --kubernetes-peers, in testdata/metrics.golden.
func TestMetricsGolden(t *testing.T) {
	pool, err := NewPool(testDial, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	if err := registerMetrics(reg, pool, new(Metrics), kubeclient.NewAPIHealth(nil, nil)); err != nil {
		t.Fatal(err)
	}
	metricstest.Golden(t, filepath.Join("testdata", "metrics.golden"), reg)
}
