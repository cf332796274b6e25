package flowmetrics

import (
	"strings"
	"testing"
	"time"

	"github.com/foveanet/fovea/model/record"
)

// TestApply: a handler kept by a new config keeps its series, one removed
// leaves the scrape, one whose options changed starts anew with its new
// labels, and a config that does not compile changes nothing.
func TestApply(t *testing.T) {
	now := time.Unix(1700000000, 0)
	n := testNode(t)
	m := newTestMetrics(t, "flow tcp", n, &now)
	syn := rec{proto: record.ProtoTCP, tcp: syn, obs: fromEndpoint, reply: no, srcEP: podA, dstEP: podB}
	feed(m, n, syn, syn)
	const (
		flows = `hubble_flows_processed_total{protocol="TCP",subtype="from-endpoint",type="Trace",verdict="FORWARDED"} `
		syns  = `hubble_tcp_flags_total{family="IPv4",flag="SYN"} `
	)
	apply := func(spec string) error {
		t.Helper()
		cfg, err := ParseSpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		return m.Apply(cfg)
	}

	if err := apply("tcp:sourceContext=pod flow drop"); err != nil {
		t.Fatal(err)
	}
	feed(m, n, syn)
	got := scrape(t, m.FlowCollector())
	if sampleValue(got, flows) != 3 {
		t.Errorf("the kept flow handler lost its count:\n%s", got)
	}
	if strings.Contains(got, syns) || sampleValue(got, `hubble_tcp_flags_total{family="IPv4",flag="SYN",source="shop/frontend-7d9f-abcde"} `) != 1 {
		t.Errorf("the changed tcp handler did not start anew with its new label:\n%s", got)
	}

	if err := apply("tcp:sourceContext=pod"); err != nil {
		t.Fatal(err)
	}
	got = scrape(t, m.FlowCollector(), m.Collector())
	if strings.Contains(got, "hubble_flows_processed_total") || strings.Contains(got, `metric="hubble_flows_processed_total"`) {
		t.Errorf("the removed flow handler is still scraped:\n%s", got)
	}

	for _, bad := range []string{"tcp kafka", "tcp:sourceContext=pods"} {
		if err := apply(bad); err == nil {
			t.Fatalf("Apply(%q) succeeded", bad)
		}
	}
	feed(m, n, syn)
	if got := scrape(t, m.FlowCollector()); sampleValue(got, `hubble_tcp_flags_total{family="IPv4",flag="SYN",source="shop/frontend-7d9f-abcde"} `) != 2 {
		t.Errorf("a refused config changed the handlers:\n%s", got)
	}

	// No handler left: nothing is queued, until one is enabled again.
	if err := apply(""); err != nil {
		t.Fatal(err)
	}
	r := syn.record(n)
	m.Observe(&r)
	if m.queue.tail.Load() != 0 {
		t.Error("a record was queued with no handler enabled")
	}
	if err := apply("flow"); err != nil {
		t.Fatal(err)
	}
	m.Observe(&r)
	if m.queue.tail.Load() != 1 {
		t.Error("a record was not queued once a handler was enabled")
	}
}
