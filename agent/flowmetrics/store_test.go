package flowmetrics

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/foveanet/fovea/model/record"
)

func TestKeyRoundTrip(t *testing.T) {
	values := []string{"", "TCP", "shop/frontend", strings.Repeat("x", 300), "ünïcode"}
	var k []byte
	for _, v := range values {
		k = appendValue(k, v)
	}
	if diff := cmp.Diff(values, decodeKey(string(k))); diff != "" {
		t.Fatalf("decoded values (-want +got):\n%s", diff)
	}
}

func TestKeyValuesAreValidUTF8(t *testing.T) {
	k := appendValue(nil, "bad\xffname.")
	k = appendValue(k, "next")
	got := decodeKey(string(k))
	if want := []string{"bad\uFFFDname.", "next"}; !cmp.Equal(got, want) {
		t.Fatalf("values %q, want %q", got, want)
	}
	long := appendValue(nil, strings.Repeat("é", 40000)) // 80000 bytes
	if v := decodeKey(string(long))[0]; len(v) != 65534 || strings.Trim(v, "é") != "" {
		t.Fatalf("long value cut to %d bytes, not to whole runes under 64 KiB", len(v))
	}
}

// TestSeriesExpire: series naming endpoints go a TTL after their last flow;
// series of bounded labels stay.
func TestSeriesExpire(t *testing.T) {
	now := time.Unix(1700000000, 0)
	n := testNode(t)
	m := newTestMetrics(t, "flow:sourceContext=pod tcp", n, &now, WithSeriesTTL(time.Minute))
	a := rec{proto: record.ProtoTCP, tcp: syn, obs: fromEndpoint, reply: no, srcEP: podA, dstEP: podB}
	b := rec{proto: record.ProtoTCP, tcp: syn, obs: fromEndpoint, reply: no, srcEP: podB, dstEP: podA}
	feed(m, n, a, b)
	now = now.Add(40 * time.Second)
	feed(m, n, a)
	now = now.Add(30 * time.Second) // b's series is 70 s old, a's 30 s
	got := scrape(t, m.FlowCollector(), m.Collector())
	for _, want := range []string{
		`hubble_flows_processed_total{protocol="TCP",source="shop/frontend-7d9f-abcde",subtype="from-endpoint",type="Trace",verdict="FORWARDED"} 2`,
		`hubble_tcp_flags_total{family="IPv4",flag="SYN"} 3`,
		`metrics_series_expired_total{metric="hubble_flows_processed_total"} 1`,
		`metrics_series{metric="hubble_flows_processed_total"} 1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Contains(got, "cart-0") {
		t.Errorf("the series of a pod without flows for the TTL is still there:\n%s", got)
	}
	// Much later, the bounded series stays and the last pod's goes.
	now = now.Add(time.Hour)
	got = scrape(t, m.FlowCollector())
	if strings.Contains(got, "hubble_flows_processed_total{") || !strings.Contains(got, `hubble_tcp_flags_total{family="IPv4",flag="SYN"} 3`) {
		t.Errorf("after an hour:\n%s", got)
	}
	// A pod that comes back starts a new series.
	feed(m, n, a)
	if got := scrape(t, m.FlowCollector()); !strings.Contains(got, `source="shop/frontend-7d9f-abcde",subtype="from-endpoint",type="Trace",verdict="FORWARDED"} 1`) {
		t.Errorf("returning pod:\n%s", got)
	}
}

// TestSeriesLimit: a metric holds at most its limit of series; what the
// limit refuses is counted by metric, and existing series keep counting.
func TestSeriesLimit(t *testing.T) {
	now := time.Unix(1700000000, 0)
	n := testNode(t)
	m := newTestMetrics(t, "flow:destinationContext=ip port-distribution", n, &now, WithSeriesLimit(3))
	for i := range 10 {
		feed(m, n, rec{dst: fmt.Sprintf("10.1.0.%d", i), proto: record.ProtoUDP, dport: 53, obs: fromEndpoint, reply: no})
	}
	feed(m, n, rec{dst: "10.1.0.0", proto: record.ProtoUDP, dport: 53, obs: fromEndpoint, reply: no})
	got := scrape(t, m.FlowCollector(), m.Collector())
	for _, want := range []string{
		`hubble_flows_processed_total{destination="10.1.0.0",protocol="UDP",subtype="from-endpoint",type="Trace",verdict="FORWARDED"} 2`,
		`hubble_flows_processed_total{destination="10.1.0.2",protocol="UDP",subtype="from-endpoint",type="Trace",verdict="FORWARDED"} 1`,
		`hubble_port_distribution_total{port="53",protocol="UDP"} 11`,
		`metrics_series{metric="hubble_flows_processed_total"} 3`,
		`metrics_series_dropped_total{metric="hubble_flows_processed_total"} 7`,
		`metrics_series_dropped_total{metric="hubble_port_distribution_total"} 0`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Contains(got, `destination="10.1.0.3"`) {
		t.Errorf("a series over the limit was created:\n%s", got)
	}
}

func TestNewRejectsBadLimits(t *testing.T) {
	n := testNode(t)
	for _, o := range []Option{WithSeriesTTL(0), WithSeriesLimit(0), WithSeriesTTL(-time.Second)} {
		if _, err := New(Config{}, n, o); err == nil {
			t.Error("no error")
		}
	}
}
