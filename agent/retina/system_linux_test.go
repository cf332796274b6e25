//go:build linux

package retina

import (
	"log/slog"
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestSystemReadersReadThisHost: every reader reads the real kernel, and a
// connection this test holds shows in the socket series.
func TestSystemReadersReadThisHost(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	conn, err := net.Dial("tcp", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	c, err := New(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c.Collector(), c.HealthCollector())
	// The health shows what the previous scrape read.
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range families {
		byName[f.GetName()] = f
	}
	for _, m := range byName["retina_collector_success"].GetMetric() {
		if m.GetGauge().GetValue() != 1 {
			t.Errorf("collector %s failed", m.GetLabel()[0].GetValue())
		}
	}
	if n := len(byName["retina_collector_success"].GetMetric()); n != 4 {
		t.Errorf("%d collectors reported, want 4", n)
	}
	var established, listening float64
	for _, m := range byName["networkobservability_tcp_state"].GetMetric() {
		switch m.GetLabel()[0].GetValue() {
		case "ESTABLISHED":
			established = m.GetGauge().GetValue()
		case "LISTEN":
			listening = m.GetGauge().GetValue()
		}
	}
	if established < 2 || listening < 1 {
		t.Errorf("tcp_state ESTABLISHED %v, LISTEN %v: want the test's connection and listener", established, listening)
	}
	if byName["networkobservability_udp_connection_stats"] == nil || byName["networkobservability_conntrack_total_connections"] == nil {
		t.Errorf("udp_connection_stats or conntrack_total_connections missing: %v", families)
	}
}
