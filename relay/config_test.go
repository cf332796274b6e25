package relay

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/foveanet/fovea/api/server"
)

func TestConfigValidateNamesTheFlag(t *testing.T) {
	valid := Config{
		Server: server.Config{SocketPath: "/run/relay.sock", ListenAddress: ":4245", Insecure: true},
		Dial:   testDial,
		Merge:  testMerge,
		Peers:  []string{"node1=10.0.0.1:4244"},
	}
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for flag, mutate := range map[string]func(*Config){
		"--peers, --peer-service":     func(c *Config) { c.Peers = nil },
		"--peers":                     func(c *Config) { c.Peers = []string{"no-port"} },
		"--listen-address":            func(c *Config) { c.Server.Insecure = false },
		"--peer-insecure":             func(c *Config) { c.Dial.TLS.CAFiles = []string{"ca.crt"} },
		"--peer-tls-cert-file":        func(c *Config) { c.Dial.TLS = ClientTLS{CertFile: "tls.crt"} },
		"--dial-timeout":              func(c *Config) { c.Dial.DialTimeout = 0 },
		"--retry-timeout":             func(c *Config) { c.Dial.MaxBackoff = 0 },
		"--peer-keepalive":            func(c *Config) { c.Dial.Keepalive = time.Second },
		"--sort-buffer-len-max":       func(c *Config) { c.Merge.SortBufferLen = 0 },
		"--sort-buffer-drain-timeout": func(c *Config) { c.Merge.DrainTimeout = 0 },
		"--peer-update-interval":      func(c *Config) { c.Merge.RetryInterval = 0 },
		"--metrics-address":           func(c *Config) { c.MetricsAddress = "9966" },
	} {
		c := valid
		c.Dial.TLS.CAFiles = nil
		mutate(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), flag) {
			t.Errorf("%s: got %v", flag, err)
		}
	}
}

// The defaults are valid once given what has none: peers, and a TLS
// certificate or --insecure.
func TestFlagDefaultsAreValid(t *testing.T) {
	var c Config
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	c.Flags(fs)
	if err := fs.Parse([]string{"--peers=10.0.0.1:4244", "--insecure"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Dial.Keepalive != 30*time.Second || c.Merge.SortBufferLen != 1024 || c.Server.SocketPath != "/var/run/fovea/relay.sock" {
		t.Fatalf("defaults not bound: %+v", c)
	}
}
