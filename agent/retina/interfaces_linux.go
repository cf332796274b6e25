//go:build linux

package retina

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vishvananda/netlink"
)

// readInterfaces reads the kernel's counters of every interface of the
// node's namespace through netlink (IFLA_STATS64): every driver has them,
// where ethtool's own statistics vary by driver and virtual devices mostly
// lack them.
func readInterfaces() ([]prometheus.Metric, error) {
	links, err := netlink.LinkList()
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	list := make([]linkStats, 0, len(links))
	for _, l := range links {
		a := l.Attrs()
		s := a.Statistics
		if s == nil {
			continue
		}
		list = append(list, linkStats{name: a.Name, stats: []linkStat{
			{"rx_errors", s.RxErrors}, {"tx_errors", s.TxErrors},
			{"rx_dropped", s.RxDropped}, {"tx_dropped", s.TxDropped},
			{"rx_length_errors", s.RxLengthErrors}, {"rx_over_errors", s.RxOverErrors},
			{"rx_crc_errors", s.RxCrcErrors}, {"rx_frame_errors", s.RxFrameErrors},
			{"rx_fifo_errors", s.RxFifoErrors}, {"rx_missed_errors", s.RxMissedErrors},
			{"tx_aborted_errors", s.TxAbortedErrors}, {"tx_carrier_errors", s.TxCarrierErrors},
			{"tx_fifo_errors", s.TxFifoErrors}, {"tx_heartbeat_errors", s.TxHeartbeatErrors},
			{"tx_window_errors", s.TxWindowErrors},
		}})
	}
	return interfaceSeries(list), nil
}
