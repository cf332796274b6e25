package agent

import (
	"slices"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/agent/dns"
	"github.com/foveanet/fovea/agent/flowmetrics"
	"github.com/foveanet/fovea/agent/http"
	"github.com/foveanet/fovea/agent/retina"
	"github.com/foveanet/fovea/agent/sweep"
	"github.com/foveanet/fovea/api/metrics"
	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/l7"
)

// ringStats is what the ring collector reads; *ringbuffer.Ring satisfies it.
type ringStats interface {
	Cap() uint64
	Len() uint64
	Head() uint64
}

// ringCollector reports the ring's state at scrape time, so the write path
// pays nothing for it.
type ringCollector struct {
	ring                    ringStats
	seen                    *atomic.Uint64
	capacity, held, written *prometheus.Desc
	seenFlows               *prometheus.Desc
}

func newRingCollector(ring ringStats, seen *atomic.Uint64) prometheus.Collector {
	return &ringCollector{
		ring:      ring,
		seen:      seen,
		capacity:  prometheus.NewDesc("ring_capacity_events", "Events the ring can hold.", nil, nil),
		held:      prometheus.NewDesc("ring_events", "Events the ring holds now.", nil, nil),
		written:   prometheus.NewDesc("ring_writes_total", "Events written to the ring, loss notices included.", nil, nil),
		seenFlows: prometheus.NewDesc("flows_seen_total", "Flows decoded by the agent (Hubble's seen_flows).", nil, nil),
	}
}

func (c *ringCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.capacity
	ch <- c.held
	ch <- c.written
	ch <- c.seenFlows
}

func (c *ringCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.capacity, prometheus.GaugeValue, float64(c.ring.Cap()))
	ch <- prometheus.MustNewConstMetric(c.held, prometheus.GaugeValue, float64(c.ring.Len()))
	ch <- prometheus.MustNewConstMetric(c.written, prometheus.CounterValue, float64(c.ring.Head()))
	ch <- prometheus.MustNewConstMetric(c.seenFlows, prometheus.CounterValue, float64(c.seen.Load()))
}

// instruments are the components whose series the agent exposes.
type instruments struct {
	ring     prometheus.Collector
	tables   *intern.Tables
	l7       *l7.Store
	names    *dns.Names
	parser   *dns.Parser
	http     *http.Parser
	source   Source
	sweeper  *sweep.Sweeper
	observer *observer.Server
	// flowMetrics are Hubble's flow metrics (hubble_*, named as Hubble
	// names them) and their own health; metricsConfig the health of their
	// config file, if they have one.
	flowMetrics   *flowmetrics.Metrics
	metricsConfig prometheus.Collector
	// export are the flow logs' counts.
	export *exporting
	// feed are the series of what feeds the endpoints index (the inventory
	// file, or the Kubernetes API and its health), if anything does.
	feed []prometheus.Collector
	// retinaNode are Retina's node series, nil when off; every Retina
	// series carries retinaLabels.
	retinaNode   *retina.Node
	retinaLabels prometheus.Labels
}

// register registers every series the agent exposes with reg: the one list
// of them, which testdata/metrics.golden shows.
func (in instruments) register(reg *metrics.Registry) error {
	if err := reg.RegisterUnprefixed(in.flowMetrics.FlowCollector()); err != nil {
		return err
	}
	// Retina's series are named as Retina names them, its counters
	// without _total.
	reg.AllowCounterNames(append(slices.Clone(retina.CounterNames), flowmetrics.RetinaCounterNames...)...)
	reg.DeclareHistograms(flowmetrics.RetinaHistogramNames...)
	retinaSeries := []prometheus.Collector{prometheus.WrapCollectorWith(in.retinaLabels, in.flowMetrics.RetinaCollector())}
	if in.retinaNode != nil {
		retinaSeries = append(retinaSeries, prometheus.WrapCollectorWith(in.retinaLabels, in.retinaNode.Collector()))
		if err := reg.Register(in.retinaNode.HealthCollector()); err != nil {
			return err
		}
	}
	if err := reg.RegisterUnprefixed(retinaSeries...); err != nil {
		return err
	}
	cs := append([]prometheus.Collector{
		in.ring, in.tables.Collector(), in.l7.Collector(), in.names.Collector(), in.parser.Collector(),
		in.http.Collector(), in.source.Collector(), in.sweeper.Collector(), in.observer.Collector(), in.flowMetrics.Collector(),
	}, append(in.export.collectors(), in.feed...)...)
	if in.metricsConfig != nil {
		cs = append(cs, in.metricsConfig)
	}
	return reg.Register(cs...)
}
