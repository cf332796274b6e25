package flowmetrics

import (
	"strings"
	"sync/atomic"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/prometheus/client_golang/prometheus"
)

var lostDesc = prometheus.NewDesc("hubble_lost_events_total", "Number of lost events", []string{"source"}, nil)

// lostEvents counts events lost before they became flows, by Hubble's
// LostEventSource: those the pipeline's loss records report, plus what
// other stages count themselves (the observer's streams overtaken by the
// ring).
type lostEvents struct {
	// fromRecords is written by the pipeline's writer only.
	fromRecords [len(lostSources)]atomic.Uint64
	readers     [len(lostSources)][]func() uint64
}

// lostSources are the sources' label values, by flow.LostEventSource.
var lostSources = func() (names [4]string) {
	for i := range names {
		names[i] = strings.ToLower(flowpb.LostEventSource(i).String())
	}
	return names
}()

// alwaysReported are the sources shown even at zero, so that dashboards
// and alerts have a series from the start.
var alwaysReported = [len(lostSources)]bool{
	flowpb.LostEventSource_PERF_EVENT_RING_BUFFER: true,
	flowpb.LostEventSource_HUBBLE_RING_BUFFER:     true,
}

func (l *lostEvents) record(source uint8, n uint32) {
	if int(source) >= len(l.fromRecords) {
		source = uint8(flowpb.LostEventSource_UNKNOWN_LOST_EVENT_SOURCE)
	}
	l.fromRecords[source].Add(uint64(max(n, 1)))
}

func (l *lostEvents) collect(ch chan<- prometheus.Metric) {
	for i, name := range lostSources {
		n := l.fromRecords[i].Load()
		for _, read := range l.readers[i] {
			n += read()
		}
		if n > 0 || alwaysReported[i] {
			ch <- prometheus.MustNewConstMetric(lostDesc, prometheus.CounterValue, float64(n), name)
		}
	}
}
