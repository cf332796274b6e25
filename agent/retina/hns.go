package retina

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/windows"
)

// HNS reads a Windows node's HNS endpoint statistics and VFP port
// counters (the Windows source).
type HNS interface {
	PortCounters() ([]windows.PortCounters, error)
}

// Retina's Windows-only series. tcp_flag_gauges counts packets by TCP flag
// as VFP does; windows_hns_stats repeats HNS's packet counts under
// Retina's own statistic names, which it labels direction.
var (
	descTCPFlagGauges = desc("tcp_flag_gauges", "TCP gauges by flag", labelDirection, labelFlag)
	descHNSStats      = desc("windows_hns_stats", "Include many different metrics from packets sent/received to closed connections", labelDirection)
)

// Retina's drop reasons on Windows: HNS's endpoint drops and VFP's ACL
// drops.
const (
	windowsDropEndpoint = "endpoint"
	windowsDropACL      = "aclrule"
)

// WithHNS serves Retina's Windows series read from h at scrape time:
// forward_count, forward_bytes and drop_count{reason="endpoint"} from HNS,
// drop_count{reason="aclrule"}, tcp_connection_stats and tcp_flag_gauges
// from VFP, windows_hns_stats. They are summed over the node's endpoints
// (Retina shows one endpoint's, whichever it read last). The Linux
// readers do not apply to such a node and are left out.
func WithHNS(h HNS) Option {
	return func(c *Node) {
		c.windows = true
		c.readers = append(c.readers, reader{
			name:  "hns",
			descs: []*prometheus.Desc{descForwardCount, descForwardBytes, descDropCount, descTCPStats, descTCPFlagGauges, descHNSStats},
			read: func() ([]prometheus.Metric, error) {
				pcs, err := h.PortCounters()
				if err != nil {
					return nil, err
				}
				return hnsSeries(pcs), nil
			},
		})
	}
}

// hnsSeries sums the endpoints' counters into Retina's series.
func hnsSeries(pcs []windows.PortCounters) []prometheus.Metric {
	var hns windows.EndpointStats
	var in, out windows.VFPDirCounters
	vfp := false
	for _, pc := range pcs {
		e := pc.Endpoint
		hns.PacketsReceived += e.PacketsReceived
		hns.PacketsSent += e.PacketsSent
		hns.BytesReceived += e.BytesReceived
		hns.BytesSent += e.BytesSent
		hns.DroppedPacketsIncoming += e.DroppedPacketsIncoming
		hns.DroppedPacketsOutgoing += e.DroppedPacketsOutgoing
		if pc.VFP != nil {
			vfp = true
			addVFP(&in, pc.VFP.In)
			addVFP(&out, pc.VFP.Out)
		}
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) prometheus.Metric {
		return prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v uint64, labels ...string) prometheus.Metric {
		return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	ms := []prometheus.Metric{
		counter(descForwardCount, hns.PacketsReceived, "ingress"),
		counter(descForwardCount, hns.PacketsSent, "egress"),
		counter(descForwardBytes, hns.BytesReceived, "ingress"),
		counter(descForwardBytes, hns.BytesSent, "egress"),
		counter(descDropCount, hns.DroppedPacketsIncoming, "ingress", windowsDropEndpoint),
		counter(descDropCount, hns.DroppedPacketsOutgoing, "egress", windowsDropEndpoint),
		gauge(descHNSStats, hns.PacketsReceived, "win_packets_recv_count"),
		gauge(descHNSStats, hns.PacketsSent, "win_packets_sent_count"),
	}
	if !vfp {
		return ms
	}
	ms = append(ms,
		counter(descDropCount, in.ACLDrops, "ingress", windowsDropACL),
		counter(descDropCount, out.ACLDrops, "egress", windowsDropACL))
	// Retina reads the connection statistics of the IN direction only.
	for _, s := range []struct {
		name string
		v    uint64
	}{
		{"ResetCount", in.Reset}, {"ClosedFin", in.ClosedFIN}, {"ResetSyn", in.ResetSYN},
		{"TcpHalfOpenTimeouts", in.HalfOpenTimeouts}, {"Verified", in.Verified},
		{"TimedOutCount", in.TimedOut}, {"TimeWaitExpiredCount", in.TimeWaitExpired},
	} {
		ms = append(ms, gauge(descTCPStats, s.v, s.name))
	}
	for _, d := range []struct {
		dir string
		c   windows.VFPDirCounters
	}{{"ingress", in}, {"egress", out}} {
		ms = append(ms,
			gauge(descTCPFlagGauges, d.c.SYN, d.dir, "SYN"), gauge(descTCPFlagGauges, d.c.SYNACK, d.dir, "SYNACK"),
			gauge(descTCPFlagGauges, d.c.FIN, d.dir, "FIN"), gauge(descTCPFlagGauges, d.c.RST, d.dir, "RST"))
	}
	return ms
}

func addVFP(sum *windows.VFPDirCounters, c windows.VFPDirCounters) {
	sum.SYN += c.SYN
	sum.SYNACK += c.SYNACK
	sum.FIN += c.FIN
	sum.RST += c.RST
	sum.Verified += c.Verified
	sum.TimedOut += c.TimedOut
	sum.Reset += c.Reset
	sum.ResetSYN += c.ResetSYN
	sum.ClosedFIN += c.ClosedFIN
	sum.HalfOpenTimeouts += c.HalfOpenTimeouts
	sum.TimeWaitExpired += c.TimeWaitExpired
	sum.ACLDrops += c.ACLDrops
}
