//go:build linux

package retina

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vishvananda/netlink"
)

// readConntrack dumps netfilter's connection table of the node's namespace
// through ctnetlink. Per-connection packets and bytes are there only when
// the kernel accounts them (sysctl net.netfilter.nf_conntrack_acct=1);
// without it they read zero.
func readConntrack() ([]prometheus.Metric, error) {
	var t conntrackTotals
	for _, family := range []netlink.InetFamily{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		flows, err := netlink.ConntrackTableList(netlink.ConntrackTable, family)
		if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
			return nil, fmt.Errorf("dump connection tracking table: %w", err)
		}
		for _, f := range flows {
			t.packetsTx += f.Forward.Packets
			t.bytesTx += f.Forward.Bytes
			t.packetsRx += f.Reverse.Packets
			t.bytesRx += f.Reverse.Bytes
		}
		t.connections += len(flows)
	}
	return t.series(), nil
}
