package retina

import "github.com/prometheus/client_golang/prometheus"

// Prefix starts every Retina series.
const Prefix = "networkobservability_"

// Label names Retina gives its node series.
const (
	labelDirection = "direction"
	labelReason    = "reason"
	labelState     = "state"
	labelAddress   = "address"
	labelPort      = "port"
	labelStatistic = "statistic_name"
	labelInterface = "interface_name"
	labelFlag      = "flag"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(Prefix+name, help, labels, nil)
}

// The series, with Retina's help texts. Retina's counters do not end in
// _total; their names are its contract.
var (
	descForwardCount = desc("forward_count", "Total forwarded packets", labelDirection)
	descForwardBytes = desc("forward_bytes", "Total forwarded bytes", labelDirection)
	descDropCount    = desc("drop_count", "Total dropped packets", labelDirection, labelReason)
	descDropBytes    = desc("drop_bytes", "Total dropped bytes", labelDirection, labelReason)

	descTCPState  = desc("tcp_state", "number of active TCP connections by state", labelState)
	descTCPRemote = desc("tcp_connection_remote", "number of active TCP connections by remote address", labelAddress, labelPort)
	descTCPStats  = desc("tcp_connection_stats", "TCP connections Statistics", labelStatistic)
	descIPStats   = desc("ip_connection_stats", "IP connections Statistics", labelStatistic)
	descUDPStats  = desc("udp_connection_stats", "UDP connections Statistics", labelStatistic)
	descIfaceStat = desc("interface_stats", "Interface Statistics", labelInterface, labelStatistic)

	descConntrackPacketsTx = desc("conntrack_packets_tx", "Total packets transmitted tracked by conntrack")
	descConntrackPacketsRx = desc("conntrack_packets_rx", "Total packets received tracked by conntrack")
	descConntrackBytesTx   = desc("conntrack_bytes_tx", "Total bytes transmitted tracked by conntrack")
	descConntrackBytesRx   = desc("conntrack_bytes_rx", "Total bytes received tracked by conntrack")
	descConntrackTotal     = desc("conntrack_total_connections", "Total number of tracked connections")
)

// CounterNames are Retina's node counters: their names lack the _total
// that Prometheus' conventions (and promtool) ask of counters.
var CounterNames = []string{
	Prefix + "forward_count", Prefix + "forward_bytes", Prefix + "drop_count", Prefix + "drop_bytes",
}
