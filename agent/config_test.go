package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/foveanet/fovea/agent/capture"
	"github.com/foveanet/fovea/api/server"
)

func validConfig() Config {
	return Config{
		NodeName:            "n1",
		RingCapacity:        4095,
		Aggregation:         "connection",
		AggregationInterval: 30 * time.Second,
		LocalAddrsRefresh:   30 * time.Second,
		InternSweepInterval: 10 * time.Second,
		MetricsAddress:      ":9965",
		MetricsSeriesTTL:    5 * time.Minute,
		MetricsSeriesLimit:  10000,
		Server:              server.Config{SocketPath: "/run/fovea-test.sock"},
		Capture:             capture.Config{Dir: "/run/fovea-test-captures", MaxConcurrent: 4, MaxStoredBytes: 1 << 30, MaxDuration: time.Hour},
	}
}

func TestValidateAggregation(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		flag string // "" when valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"none", func(c *Config) { c.Aggregation = "none" }, ""},
		{"sampling", func(c *Config) { c.SampleRate = 100 }, ""},
		{"unknown mode", func(c *Config) { c.Aggregation = "flow" }, "--aggregation"},
		{"sampling without aggregation", func(c *Config) { c.Aggregation, c.SampleRate = "none", 10 }, "--sample-rate"},
		{"zero interval", func(c *Config) { c.AggregationInterval = 0 }, "--aggregation-interval"},
		{"huge sample rate", func(c *Config) { c.SampleRate = 1 << 33 }, "--sample-rate"},
		{"zero sweep interval", func(c *Config) { c.InternSweepInterval = 0 }, "--intern-sweep-interval"},
		{"interface roles", func(c *Config) { c.Interfaces = []string{"eth0=network", "lxc*=endpoint", "cali*"} }, ""},
		{"unknown interface role", func(c *Config) { c.Interfaces = []string{"eth0=uplink"} }, "--interfaces"},
		{"bad interface glob", func(c *Config) { c.Interfaces = []string{"eth["} }, "--interfaces"},
		{"tunnel ports", func(c *Config) { c.VXLANPorts, c.GenevePorts = []uint{4789, 8472, 6784}, []uint{6081} }, ""},
		{"vxlan port out of range", func(c *Config) { c.VXLANPorts = []uint{70000} }, "--vxlan-ports"},
		{"port both vxlan and geneve", func(c *Config) { c.VXLANPorts, c.GenevePorts = []uint{6081}, []uint{6081} }, "--vxlan-ports, --geneve-ports"},
		{"no capture directory", func(c *Config) { c.Capture.Dir = "" }, "--capture-dir"},
		{"no concurrent capture", func(c *Config) { c.Capture.MaxConcurrent = 0 }, "--capture-max-concurrent"},
		{"too little capture storage", func(c *Config) { c.Capture.MaxStoredBytes = 1000 }, "--capture-max-stored-bytes"},
		{"too many tunnel ports", func(c *Config) { c.VXLANPorts = []uint{1, 2, 3, 4, 5, 6, 7, 8, 9} }, "--vxlan-ports, --geneve-ports"},
		{"API server addresses", func(c *Config) { c.APIServerAddresses = []string{"10.0.0.10", "fd00::10"} }, ""},
		{"API server hostname", func(c *Config) { c.APIServerAddresses = []string{"kube-api.example"} }, "--apiserver-addresses"},
	} {
		c := validConfig()
		tc.edit(&c)
		err := c.Validate()
		switch {
		case tc.flag == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.flag != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.flag+":")):
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.flag)
		}
	}
}

// The defaults are valid once given what may lack one: a node name (the
// hostname) and a TLS certificate or --insecure.
func TestFlagDefaultsAreValid(t *testing.T) {
	var c Config
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	c.Flags(fs)
	if err := fs.Parse([]string{"--node-name=n1", "--insecure"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.RingCapacity != 4095 || c.Server.SocketPath != "/var/run/fovea/hubble.sock" {
		t.Fatalf("defaults not bound: %+v", c)
	}
}

func TestValidateExport(t *testing.T) {
	withLog := func(edit func(*Config)) func(*Config) {
		return func(c *Config) {
			c.ExportFilePath, c.ExportFileMaxSizeMB, c.ExportFileMaxBackups = "/var/log/fovea/flows.log", 10, 5
			edit(c)
		}
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		flag string // "" when valid
	}{
		{"no flow log", func(c *Config) { c.ExportAllowlist = "not even JSON" }, ""},
		{"flow log", withLog(func(c *Config) {
			c.ExportAllowlist, c.ExportDenylist = `{"source_pod":["a/"]} {"verdict":["DROPPED"]}`, `{"destination_port":["53"]}`
			c.ExportFieldMask = []string{"time", "source.pod_name"}
		}), ""},
		{"zero size", withLog(func(c *Config) { c.ExportFileMaxSizeMB = 0 }), "--export-file-max-size-mb"},
		{"negative backups", withLog(func(c *Config) { c.ExportFileMaxBackups = -1 }), "--export-file-max-backups"},
		{"allowlist not JSON", withLog(func(c *Config) { c.ExportAllowlist = `{"source_pod":` }), "--export-allowlist"},
		{"bad allow filter", withLog(func(c *Config) { c.ExportAllowlist = `{"source_ip":["x"]}` }), "--export-allowlist"},
		{"bad deny filter", withLog(func(c *Config) { c.ExportDenylist = `{"source_ip":["x"]}` }), "--export-denylist"},
		{"bad field", withLog(func(c *Config) { c.ExportFieldMask = []string{"no_such_field"} }), "--export-fieldmask"},
		{"flow log file", func(c *Config) { c.FlowlogsConfig, c.FlowlogsConfigInterval = "/etc/fovea/flowlogs.yaml", time.Second }, ""},
		{"zero file interval", func(c *Config) { c.FlowlogsConfig = "/etc/fovea/flowlogs.yaml" }, "--flowlogs-config-interval"},
	} {
		c := validConfig()
		tc.edit(&c)
		err := c.Validate()
		switch {
		case tc.flag == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.flag != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.flag+":")):
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.flag)
		}
	}
}

func TestValidateOTLP(t *testing.T) {
	withEndpoint := func(edit func(*OTLPConfig)) func(*Config) {
		return func(c *Config) {
			c.OTLP = OTLPConfig{Endpoint: "collector:4317", Compression: "gzip", BatchSize: 512, QueueSize: 16384,
				BatchTimeout: time.Second, Timeout: 10 * time.Second}
			edit(&c.OTLP)
		}
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		flag string // "" when valid
	}{
		{"no endpoint", func(c *Config) { c.OTLP.Allowlist = "not JSON" }, ""},
		{"endpoint", withEndpoint(func(*OTLPConfig) {}), ""},
		{"mutual TLS", withEndpoint(func(o *OTLPConfig) { o.CAFiles, o.CertFile, o.KeyFile = []string{"ca.crt"}, "c.crt", "c.key" }), ""},
		{"no port", withEndpoint(func(o *OTLPConfig) { o.Endpoint = "collector" }), "--otlp-endpoint"},
		{"cert without key", withEndpoint(func(o *OTLPConfig) { o.CertFile = "c.crt" }), "--otlp-tls-cert-file, --otlp-tls-key-file"},
		{"insecure with TLS", withEndpoint(func(o *OTLPConfig) { o.Insecure, o.CAFiles = true, []string{"ca.crt"} }), "--otlp-insecure"},
		{"compression", withEndpoint(func(o *OTLPConfig) { o.Compression = "zstd" }), "--otlp-compression"},
		{"zero batch", withEndpoint(func(o *OTLPConfig) { o.BatchSize = 0 }), "--otlp-batch-size"},
		{"queue below a batch", withEndpoint(func(o *OTLPConfig) { o.QueueSize = 10 }), "--otlp-queue-size"},
		{"zero batch timeout", withEndpoint(func(o *OTLPConfig) { o.BatchTimeout = 0 }), "--otlp-batch-timeout"},
		{"zero timeout", withEndpoint(func(o *OTLPConfig) { o.Timeout = 0 }), "--otlp-timeout"},
		{"bad allowlist", withEndpoint(func(o *OTLPConfig) { o.Allowlist = `{"source_ip":["x"]}` }), "--otlp-allowlist"},
		{"bad denylist", withEndpoint(func(o *OTLPConfig) { o.Denylist = `{"source_ip":["x"]}` }), "--otlp-denylist"},
		{"bad field", withEndpoint(func(o *OTLPConfig) { o.FieldMask = []string{"nope"} }), "--otlp-fieldmask"},
	} {
		c := validConfig()
		tc.edit(&c)
		err := c.Validate()
		switch {
		case tc.flag == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.flag != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.flag+":")):
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.flag)
		}
	}
}
