package agent

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestWindowsRefusesLinuxFlags checks that the defaults validate on
// Windows and that each flag only the eBPF source honours fails naming
// itself.
func TestWindowsRefusesLinuxFlags(t *testing.T) {
	parse := func(args ...string) Config {
		var c Config
		fs := pflag.NewFlagSet("agent", pflag.ContinueOnError)
		c.Flags(fs)
		if err := fs.Parse(append([]string{"--listen-address="}, args...)); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := parse(); c.Validate() != nil {
		t.Fatalf("defaults: %v", c.Validate())
	}
	for _, flag := range []string{"--interfaces=eth0", "--dns-ports=53", "--vxlan-ports=4789", "--geneve-ports=6081",
		"--disable-drops", "--disable-retransmissions", "--report-unspecified-drops", "--aggregation=connection", "--disable-http=false"} {
		c := parse(flag)
		err := c.Validate()
		name := strings.SplitN(flag, "=", 2)[0]
		if err == nil || !strings.HasPrefix(err.Error(), name+":") {
			t.Errorf("%s: error %v, want one starting with %s:", flag, err, name)
		}
	}
}
