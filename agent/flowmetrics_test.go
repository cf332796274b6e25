package agent

import (
	"strings"
	"testing"
	"time"
)

func TestValidateFlowMetrics(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // "" when valid
	}{
		{"none", func(*Config) {}, ""},
		{"handlers", func(c *Config) {
			c.Metrics = "dns:query;ignoreAAAA drop:sourceContext=pod;destinationContext=namespace flow tcp port-distribution icmp flows-to-world"
		}, ""},
		{"unknown handler", func(c *Config) { c.Metrics = "flow kafka" }, `--metrics: metric "kafka": unknown handler`},
		{"http and httpV2", func(c *Config) { c.Metrics = "http httpV2:exemplars=true" }, "--metrics: metric httpV2: conflicts with http"},
		{"unknown option", func(c *Config) { c.Metrics = "drop:sourceContext=pod;destinationContxt=pod" }, `--metrics: metric drop: option "destinationContxt": unknown`},
		{"unknown context", func(c *Config) { c.Metrics = "drop:sourceContext=pods" }, `--metrics: metric drop: option sourceContext: unknown context "pods"`},
		{"unknown label", func(c *Config) { c.Metrics = "flow:labelsContext=source_ip,pod" }, `--metrics: metric flow: option labelsContext: unknown label "pod"`},
		{"nowhere to serve", func(c *Config) { c.Metrics, c.MetricsAddress = "flow", "" }, "--metrics: needs --metrics-address"},
		{"config file", func(c *Config) { c.MetricsConfig, c.MetricsConfigInterval = "/etc/fovea/metrics.yaml", time.Second }, ""},
		{"flag and file", func(c *Config) {
			c.Metrics, c.MetricsConfig, c.MetricsConfigInterval = "flow", "/etc/fovea/metrics.yaml", time.Second
		},
			"--metrics and --metrics-config: the metrics come from one or the other, not both"},
		{"file nowhere to serve", func(c *Config) {
			c.MetricsConfig, c.MetricsConfigInterval, c.MetricsAddress = "/etc/fovea/metrics.yaml", time.Second, ""
		}, "--metrics-config: needs --metrics-address"},
		{"zero config interval", func(c *Config) { c.MetricsConfig = "/etc/fovea/metrics.yaml" }, "--metrics-config-interval: 0s must be positive"},
		{"zero ttl", func(c *Config) { c.MetricsSeriesTTL = 0 }, "--metrics-series-ttl: 0s must be positive"},
		{"zero limit", func(c *Config) { c.MetricsSeriesLimit = 0 }, "--metrics-series-limit: 0 must be positive"},
	} {
		c := validConfig()
		tc.edit(&c)
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one starting %q", tc.name, err, tc.want)
		}
	}
}
