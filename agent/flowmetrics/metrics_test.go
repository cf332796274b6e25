package flowmetrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/foveanet/fovea/model/record"
)

// TestRunCountsObservedRecords goes the agent's way: records observed by
// the pipeline's writer are counted by Run's goroutine.
func TestRunCountsObservedRecords(t *testing.T) {
	n := testNode(t)
	cfg, err := ParseSpec("flow")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, n)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	r := rec{proto: record.ProtoTCP, obs: fromEndpoint}.record(n)
	const flows = 10000
	for range flows {
		m.Observe(&r)
	}
	want := `hubble_flows_processed_total{protocol="TCP",subtype="from-endpoint",type="Trace",verdict="FORWARDED"} `
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := scrape(t, m.FlowCollector(), m.Collector())
		counted, dropped := sampleValue(got, want), sampleValue(got, "metrics_flows_dropped_total ")
		if counted+dropped == flows {
			if counted == 0 {
				t.Fatalf("nothing counted:\n%s", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("counted %d and dropped %d of %d flows:\n%s", counted, dropped, flows, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestFullQueueDrops: when the handlers do not keep up, Observe drops and
// counts instead of waiting.
func TestFullQueueDrops(t *testing.T) {
	now := time.Unix(1700000000, 0)
	n := testNode(t)
	m := newTestMetrics(t, "flow", n, &now, WithQueueSize(8))
	r := rec{proto: record.ProtoTCP, obs: fromEndpoint}.record(n)
	for range 20 { // nothing drains the queue
		m.Observe(&r)
	}
	if got := scrape(t, m.Collector()); !strings.Contains(got, "metrics_flows_dropped_total 12\n") {
		t.Fatalf("scrape:\n%s", got)
	}
	batch := make([]record.Record, batchSize)
	if k := m.queue.pop(batch); k != 8 {
		t.Fatalf("queue held %d records, want 8", k)
	}
}

// TestNoHandlersQueuesNothing: without handlers only losses are counted.
func TestNoHandlersQueuesNothing(t *testing.T) {
	now := time.Unix(1700000000, 0)
	n := testNode(t)
	m := newTestMetrics(t, "", n, &now, WithQueueSize(1))
	feed(m, n, rec{kind: record.KindLost, lost: 3})
	r := rec{proto: record.ProtoTCP}.record(n)
	m.Observe(&r)
	m.Observe(&r)
	got := scrape(t, m.FlowCollector(), m.Collector())
	// Component collectors are unprefixed; the agent's registry adds fovea_.
	want := `# HELP hubble_lost_events_total Number of lost events
# TYPE hubble_lost_events_total counter
hubble_lost_events_total{source="hubble_ring_buffer"} 0
hubble_lost_events_total{source="perf_event_ring_buffer"} 3
# HELP metrics_flows_dropped_total Flows the Hubble flow metrics did not count because the handlers' queue was full.
# TYPE metrics_flows_dropped_total counter
metrics_flows_dropped_total 0
`
	if got != want {
		t.Fatalf("scrape:\n%s\nwant:\n%s", got, want)
	}
}

func TestLostEventsFromReaders(t *testing.T) {
	now := time.Unix(1700000000, 0)
	n := testNode(t)
	m := newTestMetrics(t, "", n, &now,
		WithLostEvents(3, func() uint64 { return 7 }),  // HUBBLE_RING_BUFFER
		WithLostEvents(2, func() uint64 { return 2 }),  // OBSERVER_EVENTS_QUEUE
		WithLostEvents(99, func() uint64 { return 1 })) // not a source: ignored
	got := scrape(t, m.FlowCollector())
	for _, want := range []string{
		`hubble_lost_events_total{source="hubble_ring_buffer"} 7`,
		`hubble_lost_events_total{source="observer_events_queue"} 2`,
		`hubble_lost_events_total{source="perf_event_ring_buffer"} 0`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scrape lacks %s:\n%s", want, got)
		}
	}
}

// sampleValue is the value of the sample whose line starts with prefix.
func sampleValue(scrape, prefix string) int {
	for line := range strings.SplitSeq(scrape, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			var n int
			for _, c := range v {
				n = n*10 + int(c-'0')
			}
			return n
		}
	}
	return 0
}
