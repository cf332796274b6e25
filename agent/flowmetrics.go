package agent

import (
	"fmt"
	"log/slog"
	"net/netip"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/agent/flowmetrics"
	"github.com/foveanet/fovea/agent/metricsconfig"
	"github.com/foveanet/fovea/api/observer"
)

// newFlowMetrics builds Hubble's flow metrics over the datapath's records,
// as --metrics says or as the --metrics-config file does: then it also
// returns the file's watcher, which publishes its reloads and refusals as
// agent events. Streams the ring overtook count as Hubble's ring-buffer
// losses; pods tells which pods carry Retina's annotation.
func newFlowMetrics(cfg Config, dp *datapath, obs *observer.Server, pods *endpoints.Store, log *slog.Logger) (*flowmetrics.Metrics, *metricsconfig.Watcher, error) {
	spec, err := cfg.flowMetrics()
	if err != nil {
		return nil, nil, err
	}
	apiServer, err := cfg.apiServerAddrs()
	if err != nil {
		return nil, nil, err
	}
	observed := func(namespace, pod string) bool { return pods.Load().Observed(namespace, pod) }
	m, err := flowmetrics.New(spec, dp.node, flowmetrics.WithAPIServerAddrs(apiServer), flowmetrics.WithObservedPods(observed),
		flowmetrics.WithSeriesTTL(cfg.MetricsSeriesTTL), flowmetrics.WithSeriesLimit(cfg.MetricsSeriesLimit),
		flowmetrics.WithLostEvents(flowpb.LostEventSource_HUBBLE_RING_BUFFER, obs.StreamLostEvents))
	if err != nil {
		return nil, nil, fmt.Errorf("--%s: %w", flagMetrics, err)
	}
	if cfg.MetricsConfig == "" {
		if len(spec.Metrics) > 0 {
			log.Info("counting Hubble flow metrics", "metrics", cfg.Metrics,
				"series_ttl", cfg.MetricsSeriesTTL, "series_limit", cfg.MetricsSeriesLimit)
		}
		return m, nil, nil
	}
	notify := func(typ, detail string) { dp.events.Publish(unknownAgentEvent(typ, detail)) }
	w, err := metricsconfig.New(cfg.MetricsConfig, retinaDefault{m, cfg.RetinaMetrics}, metricsconfig.WithLogger(log),
		metricsconfig.WithInterval(cfg.MetricsConfigInterval), metricsconfig.WithNotify(notify))
	if err != nil {
		return nil, nil, fmt.Errorf("--%s: %w", flagMetricsConfig, err)
	}
	return m, w, nil
}

// retinaDefault applies a metrics config file whose retina section names
// no mode with the mode of --retina-metrics.
type retinaDefault struct {
	metrics *flowmetrics.Metrics
	mode    string
}

func (r retinaDefault) Apply(cfg flowmetrics.Config) error {
	if cfg.Retina.Mode == "" {
		cfg.Retina.Mode = r.mode
	}
	return r.metrics.Apply(cfg)
}

// flowMetrics reads --metrics and --retina-metrics.
func (c *Config) flowMetrics() (flowmetrics.Config, error) {
	spec, err := flowmetrics.ParseSpec(c.Metrics)
	spec.Retina.Mode = c.RetinaMetrics
	if err == nil {
		err = spec.Validate()
	}
	if err != nil {
		return flowmetrics.Config{}, fmt.Errorf("--%s: %w", flagMetrics, err)
	}
	return spec, nil
}

// validateFlowMetrics reports the first invalid flow metrics setting. The
// --metrics-config file is read when the agent starts, not here: it may
// change until then, and after.
func (c *Config) validateFlowMetrics() error {
	switch c.RetinaMetrics {
	case "", flowmetrics.RetinaBasic, flowmetrics.RetinaAdvanced:
	default:
		return fmt.Errorf("--%s: %q is neither %s nor %s", flagRetinaMetrics, c.RetinaMetrics, flowmetrics.RetinaBasic, flowmetrics.RetinaAdvanced)
	}
	if _, err := c.flowMetrics(); err != nil {
		return err
	}
	if _, err := c.apiServerAddrs(); err != nil {
		return err
	}
	if c.RetinaMetrics != "" && c.MetricsAddress == "" {
		return fmt.Errorf("--%s: needs --%s to serve them", flagRetinaMetrics, flagMetricsAddress)
	}
	if c.Metrics != "" && c.MetricsConfig != "" {
		return fmt.Errorf("--%s and --%s: the metrics come from one or the other, not both", flagMetrics, flagMetricsConfig)
	}
	for _, f := range []struct{ flag, value string }{{flagMetrics, c.Metrics}, {flagMetricsConfig, c.MetricsConfig}} {
		if f.value != "" && c.MetricsAddress == "" {
			return fmt.Errorf("--%s: needs --%s to serve them", f.flag, flagMetricsAddress)
		}
	}
	if c.MetricsConfig != "" && c.MetricsConfigInterval <= 0 {
		return fmt.Errorf("--%s: %v must be positive", flagMetricsConfigInterval, c.MetricsConfigInterval)
	}
	if c.MetricsSeriesTTL <= 0 {
		return fmt.Errorf("--%s: %v must be positive", flagMetricsSeriesTTL, c.MetricsSeriesTTL)
	}
	if c.MetricsSeriesLimit <= 0 {
		return fmt.Errorf("--%s: %d must be positive", flagMetricsSeriesLimit, c.MetricsSeriesLimit)
	}
	return nil
}

// apiServerAddrs reads --apiserver-addresses.
func (c *Config) apiServerAddrs() ([]netip.Addr, error) {
	out := make([]netip.Addr, 0, len(c.APIServerAddresses))
	for _, a := range c.APIServerAddresses {
		addr, err := netip.ParseAddr(a)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flagAPIServerAddresses, err)
		}
		out = append(out, addr.Unmap())
	}
	return out, nil
}
