package agent

import (
	"fmt"
	"log/slog"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/agent/flowmetrics"
	"github.com/foveanet/fovea/api/observer"
)

// newFlowMetrics builds Hubble's flow metrics over the datapath's records.
// Streams the ring overtook count as Hubble's ring-buffer losses.
func newFlowMetrics(cfg Config, dp *datapath, obs *observer.Server, log *slog.Logger) (*flowmetrics.Metrics, error) {
	spec, err := cfg.flowMetrics()
	if err != nil {
		return nil, err
	}
	m, err := flowmetrics.New(spec, dp.node,
		flowmetrics.WithSeriesTTL(cfg.MetricsSeriesTTL), flowmetrics.WithSeriesLimit(cfg.MetricsSeriesLimit),
		flowmetrics.WithLostEvents(flowpb.LostEventSource_HUBBLE_RING_BUFFER, obs.StreamLostEvents))
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flagMetrics, err)
	}
	if len(spec.Metrics) > 0 {
		log.Info("counting Hubble flow metrics", "metrics", cfg.Metrics,
			"series_ttl", cfg.MetricsSeriesTTL, "series_limit", cfg.MetricsSeriesLimit)
	}
	return m, nil
}

// flowMetrics reads --metrics.
func (c *Config) flowMetrics() (flowmetrics.Config, error) {
	spec, err := flowmetrics.ParseSpec(c.Metrics)
	if err == nil {
		err = spec.Validate()
	}
	if err != nil {
		return flowmetrics.Config{}, fmt.Errorf("--%s: %w", flagMetrics, err)
	}
	return spec, nil
}

// validateFlowMetrics reports the first invalid flow metrics setting.
func (c *Config) validateFlowMetrics() error {
	if _, err := c.flowMetrics(); err != nil {
		return err
	}
	if c.Metrics != "" && c.MetricsAddress == "" {
		return fmt.Errorf("--%s: needs --%s to serve them", flagMetrics, flagMetricsAddress)
	}
	if c.MetricsSeriesTTL <= 0 {
		return fmt.Errorf("--%s: %v must be positive", flagMetricsSeriesTTL, c.MetricsSeriesTTL)
	}
	if c.MetricsSeriesLimit <= 0 {
		return fmt.Errorf("--%s: %d must be positive", flagMetricsSeriesLimit, c.MetricsSeriesLimit)
	}
	return nil
}
