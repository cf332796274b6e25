package flowmetrics

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	ciliumapi "github.com/cilium/cilium/pkg/hubble/metrics/api"
	_ "github.com/cilium/cilium/pkg/hubble/metrics/dns"               // registers the handler
	_ "github.com/cilium/cilium/pkg/hubble/metrics/drop"              // registers the handler
	_ "github.com/cilium/cilium/pkg/hubble/metrics/flow"              // registers the handler
	_ "github.com/cilium/cilium/pkg/hubble/metrics/flows-to-world"    // registers the handler
	_ "github.com/cilium/cilium/pkg/hubble/metrics/icmp"              // registers the handler
	_ "github.com/cilium/cilium/pkg/hubble/metrics/policy"            // registers the handler
	_ "github.com/cilium/cilium/pkg/hubble/metrics/port-distribution" // registers the handler
	_ "github.com/cilium/cilium/pkg/hubble/metrics/tcp"               // registers the handler
	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

// ciliumMetrics runs Cilium's own handlers (v1.20.2, the module Fovea's
// protos come from), configured by the same --hubble-metrics spec.
type ciliumMetrics struct {
	reg      *prometheus.Registry
	handlers []ciliumapi.NamedHandler
}

func newCiliumMetrics(t testing.TB, spec string) *ciliumMetrics {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	hs, err := ciliumapi.DefaultRegistry().ConfigureHandlers(slog.New(slog.DiscardHandler), reg,
		ciliumapi.ParseStaticMetricsConfig(strings.Fields(spec)))
	if err != nil {
		t.Fatal(err)
	}
	return &ciliumMetrics{reg: reg, handlers: *hs}
}

func (c *ciliumMetrics) process(t testing.TB, e *flowview.Flow) {
	for _, h := range c.handlers {
		// Cilium's policy handler counts L7 flows as verdicts of the L7
		// policies its proxy enforces; Fovea's L7 flows (DNS it parses)
		// decide nothing and are not policy verdicts.
		if h.Name == "policy" && e.Rec.Kind == record.KindL7 {
			continue
		}
		if err := h.Handler.ProcessFlow(context.Background(), e.Flow()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSameSeriesAsCilium feeds the sample flows to Fovea's handlers, and as
// the flows Fovea serves to Cilium's, and compares the scrapes: names, help,
// labels and counts must be Hubble's.
func TestSameSeriesAsCilium(t *testing.T) {
	for _, spec := range []string{
		"flow drop tcp dns port-distribution icmp flows-to-world policy",
		"flow:sourceContext=pod|ip;destinationContext=workload|dns|reserved-identity;labelsContext=source_namespace,traffic_direction " +
			"drop:sourceContext=app;destinationContext=identity " +
			"dns:query;ignoreAAAA;sourceContext=pod-name;destinationEgressContext=namespace;destinationIngressContext=workload-name " +
			"flows-to-world:port;any-drop;sourceContext=namespace;destinationContext=dns|ip " +
			"tcp:sourceIngressContext=ip;labelsContext=source_workload,source_workload_kind,destination_app,destination_ip",
		"flows-to-world:syn-only;port dns:sourceEgressContext=ip;sourceIngressContext=pod " +
			"port-distribution:labelsContext=source_ip,source_pod,source_namespace,source_workload,source_workload_kind,source_app," +
			"destination_ip,destination_pod,destination_namespace,destination_workload,destination_workload_kind,destination_app,traffic_direction " +
			"icmp:sourceContext=identity;destinationContext=reserved-identity|app " +
			"policy:sourceContext=pod;destinationContext=namespace;labelsContext=source_namespace",
	} {
		now := time.Unix(1700000000, 0)
		n := testNode(t)
		fovea := newTestMetrics(t, spec, n, &now)
		cilium := newCiliumMetrics(t, spec)
		var view flowview.Flow
		for i, d := range sampleFlows {
			r := d.record(n)
			if r.Kind == record.KindLost {
				continue // not a flow: Cilium counts losses elsewhere
			}
			fovea.count([]record.Record{r})
			view.Reset(n, &r, uint64(i))
			cilium.process(t, &view)
		}
		got := expose(t, gather(t, fovea.FlowCollector()), "hubble_lost_events_total")
		want := expose(t, cilium.reg)
		if strings.Count(want, "\n") < 20 {
			t.Fatalf("%q: Cilium's handlers counted next to nothing:\n%s", spec, want)
		}
		if got != want {
			t.Errorf("%q: Fovea's scrape differs from Cilium's:\n--- Fovea\n%s--- Cilium\n%s", spec, got, want)
		}
	}
}
