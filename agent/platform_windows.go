package agent

import (
	"fmt"
	"os"
	"strings"

	"github.com/foveanet/fovea/agent/http"
)

// Defaults of the flags whose meaning depends on the packet source: the
// PktMon source reports every packet it is given (no aggregation), parses
// no DNS payload and decapsulates no tunnel.
var (
	defaultDNSPorts    []uint
	defaultVXLANPorts  []uint
	defaultGenevePorts []uint
	defaultAggregation = "none"
	// defaultDisableHTTP: PktMon hands over no payload to parse.
	defaultDisableHTTP = true
)

// validatePlatform refuses the flags only the Linux eBPF source honours,
// naming each, rather than ignoring them.
func (c *Config) validatePlatform() error {
	linuxOnly := func(flag string) error {
		return fmt.Errorf("--%s: only the Linux eBPF datapath supports it; the Windows PktMon source does not", flag)
	}
	switch {
	case len(c.Interfaces) > 0:
		return linuxOnly(flagInterfaces)
	case len(c.DNSPorts) > 0:
		return linuxOnly(flagDNSPorts)
	case len(c.VXLANPorts) > 0:
		return linuxOnly(flagVXLANPorts)
	case len(c.GenevePorts) > 0:
		return linuxOnly(flagGenevePorts)
	case c.DisableDrops:
		return linuxOnly(flagDisableDrops)
	case c.DisableRetransmissions:
		return linuxOnly(flagDisableRetransmissions)
	case c.ReportUnspecifiedDrops:
		return linuxOnly(flagReportUnspecifiedDrops)
	case !c.HTTP.Disable:
		return fmt.Errorf("--%s: must stay true on Windows: only the Linux eBPF datapath sees HTTP, the PktMon source does not", http.FlagDisable)
	case c.Aggregation != "none":
		return fmt.Errorf("--%s: %q: the Windows PktMon source reports every packet (none)", flagAggregation, c.Aggregation)
	}
	return nil
}

// defaultNodeName is the host's name as the kubelet names its node:
// lowercased, since Windows keeps the computer name's case (often upper).
func defaultNodeName() string {
	host, _ := os.Hostname()
	return strings.ToLower(host)
}
