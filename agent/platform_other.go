//go:build !windows

package agent

import "os"

// Defaults of the flags whose meaning depends on the packet source.
var (
	defaultDNSPorts    = []uint{53}
	defaultVXLANPorts  = []uint{4789, 8472}
	defaultGenevePorts = []uint{6081}
	defaultAggregation = "connection"
	defaultDisableHTTP = false
)

// validatePlatform accepts every datapath flag: the eBPF source honours
// them all.
func (c *Config) validatePlatform() error { return nil }

// defaultNodeName is the host's name, which the kubelet names its node.
func defaultNodeName() string {
	host, _ := os.Hostname()
	return host
}
