package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

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
