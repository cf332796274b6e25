//go:build linux

package bpf

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	descReserveFailures = prometheus.NewDesc("bpf_ring_reserve_failures_total",
		"Packets the capture program could not report because the ring buffer was full.", nil, nil)
	descEventsRead = prometheus.NewDesc("bpf_events_read_total",
		"Raw events read from the capture ring buffer.", nil, nil)
	descEventsDropped = prometheus.NewDesc("bpf_events_dropped_total",
		"Raw events read from the ring that produced no record, by reason.", []string{"reason"}, nil)
	descRetransmissions = prometheus.NewDesc("tcp_retransmissions_total",
		"TCP segments the node's stack retransmitted, as read from the tcp_retransmit_skb tracepoint.", nil, nil)
	descDropsUnattributed = prometheus.NewDesc("bpf_drops_unattributed_total",
		"Dropped packets not reported because neither a socket nor a device told their network namespace.", nil, nil)
	descDropsUnreportedPackets = prometheus.NewDesc("drops_unreported_packets_total",
		"Packets the kernel freed in the agent's namespaces and the agent did not report as drops, by reason: "+
			"NOT_SPECIFIED, which many kernel paths give without any failure (e.g. IPv6 multicast no one listens to). "+
			"--report-unspecified-drops reports them.", []string{"reason"}, nil)
	descDropsUnreportedBytes = prometheus.NewDesc("drops_unreported_bytes_total",
		"Bytes (skb length) of the packets counted in fovea_drops_unreported_packets_total.", []string{"reason"}, nil)
	descForwardPackets = prometheus.NewDesc("forward_packets_total",
		"Packets the capture program saw, by interface and direction, whatever aggregation reported of them.", []string{"direction", "interface"}, nil)
	descForwardBytes = prometheus.NewDesc("forward_bytes_total",
		"Bytes (skb length) of the packets counted in fovea_forward_packets_total.", []string{"direction", "interface"}, nil)
	descDropPackets = prometheus.NewDesc("drop_packets_total",
		"Packets the kernel dropped, by its skb_drop_reason and the captured interface (empty: none, e.g. a socket).",
		[]string{"reason", "interface"}, nil)
	descDropBytes = prometheus.NewDesc("drop_bytes_total",
		"Bytes (skb length) of the packets counted in fovea_drop_packets_total.", []string{"reason", "interface"}, nil)
	descForwardCountFailures = prometheus.NewDesc("forward_count_failures_total",
		"Packets missing from fovea_forward_packets_total because the counter table was full.", nil, nil)
	descHTTPRefused = prometheus.NewDesc("bpf_http_snippets_refused_total",
		"TCP segments starting an HTTP message that were not sent to the parser because their CPU had sent --http-rate-limit this second.", nil, nil)
	descAttached = prometheus.NewDesc("bpf_attached_interfaces",
		"Interfaces the capture programs are attached to.", nil, nil)
)

// unspecifiedReason labels the drops trace.c leaves unreported: the kernel's
// name for SKB_DROP_REASON_NOT_SPECIFIED.
const unspecifiedReason = "NOT_SPECIFIED"

// Collector returns a collector that reads the source's counters at scrape
// time.
func (s *Source) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Source }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descReserveFailures
	ch <- descEventsRead
	ch <- descEventsDropped
	ch <- descRetransmissions
	ch <- descDropsUnattributed
	ch <- descDropsUnreportedPackets
	ch <- descDropsUnreportedBytes
	ch <- descAttached
	ch <- descForwardPackets
	ch <- descForwardBytes
	ch <- descForwardCountFailures
	ch <- descDropPackets
	ch <- descDropBytes
	ch <- descHTTPRefused
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	if n, err := c.s.reserveFailures(); err != nil {
		ch <- prometheus.NewInvalidMetric(descReserveFailures, err)
	} else {
		ch <- prometheus.MustNewConstMetric(descReserveFailures, prometheus.CounterValue, float64(n))
	}
	ch <- prometheus.MustNewConstMetric(descEventsRead, prometheus.CounterValue, float64(c.s.eventsRead.Load()))
	for r := range numDropReasons {
		ch <- prometheus.MustNewConstMetric(descEventsDropped, prometheus.CounterValue,
			float64(c.s.dropped[r].Load()), r.String())
	}
	ch <- prometheus.MustNewConstMetric(descRetransmissions, prometheus.CounterValue, float64(c.s.retransmissions.Load()))
	if n, err := c.s.dropsUnattributed(); err != nil {
		ch <- prometheus.NewInvalidMetric(descDropsUnattributed, err)
	} else {
		ch <- prometheus.MustNewConstMetric(descDropsUnattributed, prometheus.CounterValue, float64(n))
	}
	if t, err := c.s.dropsUnreported(); err != nil {
		ch <- prometheus.NewInvalidMetric(descDropsUnreportedPackets, err)
	} else {
		ch <- prometheus.MustNewConstMetric(descDropsUnreportedPackets, prometheus.CounterValue, float64(t.Packets), unspecifiedReason)
		ch <- prometheus.MustNewConstMetric(descDropsUnreportedBytes, prometheus.CounterValue, float64(t.Bytes), unspecifiedReason)
	}
	ch <- prometheus.MustNewConstMetric(descAttached, prometheus.GaugeValue, float64(len(*c.s.ifaces.Load())))
	if counts, err := c.s.ForwardCounts(); err != nil {
		ch <- prometheus.NewInvalidMetric(descForwardPackets, err)
	} else {
		for _, fc := range counts {
			ch <- prometheus.MustNewConstMetric(descForwardPackets, prometheus.CounterValue, float64(fc.Packets), fc.Dir.String(), fc.Interface)
			ch <- prometheus.MustNewConstMetric(descForwardBytes, prometheus.CounterValue, float64(fc.Bytes), fc.Dir.String(), fc.Interface)
		}
	}
	// The series have no direction: the counts of both are summed. The
	// snapshot lists a reason and interface's directions side by side.
	counts := c.s.DropCounts()
	for i := 0; i < len(counts); {
		d := counts[i]
		for i++; i < len(counts) && counts[i].Reason == d.Reason && counts[i].Interface == d.Interface; i++ {
			d.Packets += counts[i].Packets
			d.Bytes += counts[i].Bytes
		}
		ch <- prometheus.MustNewConstMetric(descDropPackets, prometheus.CounterValue, float64(d.Packets), d.Reason, d.Interface)
		ch <- prometheus.MustNewConstMetric(descDropBytes, prometheus.CounterValue, float64(d.Bytes), d.Reason, d.Interface)
	}
	if n, err := perCPUSum(c.s.objs.HttpRefused); err != nil {
		ch <- prometheus.NewInvalidMetric(descHTTPRefused, err)
	} else {
		ch <- prometheus.MustNewConstMetric(descHTTPRefused, prometheus.CounterValue, float64(n))
	}
	if n, err := c.s.forwardCountFailures(); err != nil {
		ch <- prometheus.NewInvalidMetric(descForwardCountFailures, err)
	} else {
		ch <- prometheus.MustNewConstMetric(descForwardCountFailures, prometheus.CounterValue, float64(n))
	}
}
