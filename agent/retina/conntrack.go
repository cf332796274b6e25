package retina

import "github.com/prometheus/client_golang/prometheus"

// conntrackTotals sums the kernel's connection-tracking table: packets
// and bytes in each connection's original direction (tx: from its
// initiator) and reply direction (rx), and its entries.
type conntrackTotals struct {
	packetsTx, packetsRx, bytesTx, bytesRx uint64
	connections                            int
}

func (t conntrackTotals) series() []prometheus.Metric {
	g := func(d *prometheus.Desc, v float64) prometheus.Metric {
		return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	return []prometheus.Metric{
		g(descConntrackPacketsTx, float64(t.packetsTx)), g(descConntrackPacketsRx, float64(t.packetsRx)),
		g(descConntrackBytesTx, float64(t.bytesTx)), g(descConntrackBytesRx, float64(t.bytesRx)),
		g(descConntrackTotal, float64(t.connections)),
	}
}
