package agent

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/agent/retina"
)

// newRetinaNode builds Retina's node series over the datapath's counters
// and the kernel's, or nil when --retina-metrics is off. A metric holds
// at most --metrics-series-limit remotes.
func newRetinaNode(cfg Config, src Source, log *slog.Logger) (*retina.Node, error) {
	if cfg.RetinaMetrics == "" {
		return nil, nil
	}
	opts := append(retinaDatapath(src), retina.WithRemoteLimit(cfg.MetricsSeriesLimit))
	if h, ok := src.(retina.HNS); ok {
		opts = append(opts, retina.WithHNS(h))
	}
	n, err := retina.New(log, opts...)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flagRetinaMetrics, err)
	}
	return n, nil
}

// retinaLabels are the labels every Retina series carries: the cluster and
// the node (instance), which Prometheus keeps only when scraping with
// honor_labels, else it renames instance to exported_instance.
func retinaLabels(cfg Config) prometheus.Labels {
	return prometheus.Labels{"cluster": cfg.ClusterName, "instance": cfg.NodeName}
}
