package retina

import (
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/foveanet/fovea/windows"
)

// fixtureHNS reads the Windows source's fixtures: two endpoints' HNS
// statistics, VFP counters for the first.
type fixtureHNS struct {
	t   *testing.T
	err error
}

func (f fixtureHNS) PortCounters() ([]windows.PortCounters, error) {
	if f.err != nil {
		return nil, f.err
	}
	read := func(name string) []byte {
		b, err := os.ReadFile("../../windows/testdata/" + name)
		if err != nil {
			f.t.Fatal(err)
		}
		return b
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(read("hns_endpointstats.json"), &raw); err != nil {
		f.t.Fatal(err)
	}
	vfp, err := windows.ParseVFPPortCounters(string(read("vfp_port_counters.txt")))
	if err != nil {
		f.t.Fatal(err)
	}
	var out []windows.PortCounters
	for i, r := range raw {
		st, err := windows.ParseEndpointStats(r)
		if err != nil {
			f.t.Fatal(err)
		}
		pc := windows.PortCounters{Endpoint: st}
		if i == 0 {
			pc.VFP = &vfp
		}
		out = append(out, pc)
	}
	return out, nil
}

func TestHNSSeries(t *testing.T) {
	n, err := New(slog.New(slog.DiscardHandler), WithHNS(fixtureHNS{t: t}))
	if err != nil {
		t.Fatal(err)
	}
	// Summed over both endpoints; VFP's from the one port that has it.
	const want = `
# HELP networkobservability_drop_count Total dropped packets
# TYPE networkobservability_drop_count counter
networkobservability_drop_count{direction="egress",reason="aclrule"} 4
networkobservability_drop_count{direction="egress",reason="endpoint"} 3
networkobservability_drop_count{direction="ingress",reason="aclrule"} 5
networkobservability_drop_count{direction="ingress",reason="endpoint"} 3
# HELP networkobservability_forward_bytes Total forwarded bytes
# TYPE networkobservability_forward_bytes counter
networkobservability_forward_bytes{direction="egress"} 84000
networkobservability_forward_bytes{direction="ingress"} 125000
# HELP networkobservability_forward_count Total forwarded packets
# TYPE networkobservability_forward_count counter
networkobservability_forward_count{direction="egress"} 730
networkobservability_forward_count{direction="ingress"} 940
# HELP networkobservability_tcp_connection_stats TCP connections Statistics
# TYPE networkobservability_tcp_connection_stats gauge
networkobservability_tcp_connection_stats{statistic_name="ClosedFin"} 9
networkobservability_tcp_connection_stats{statistic_name="ResetCount"} 3
networkobservability_tcp_connection_stats{statistic_name="ResetSyn"} 1
networkobservability_tcp_connection_stats{statistic_name="TcpHalfOpenTimeouts"} 2
networkobservability_tcp_connection_stats{statistic_name="TimeWaitExpiredCount"} 8
networkobservability_tcp_connection_stats{statistic_name="TimedOutCount"} 2
networkobservability_tcp_connection_stats{statistic_name="Verified"} 14
# HELP networkobservability_tcp_flag_gauges TCP gauges by flag
# TYPE networkobservability_tcp_flag_gauges gauge
networkobservability_tcp_flag_gauges{direction="egress",flag="FIN"} 8
networkobservability_tcp_flag_gauges{direction="egress",flag="RST"} 2
networkobservability_tcp_flag_gauges{direction="egress",flag="SYN"} 12
networkobservability_tcp_flag_gauges{direction="egress",flag="SYNACK"} 9
networkobservability_tcp_flag_gauges{direction="ingress",flag="FIN"} 9
networkobservability_tcp_flag_gauges{direction="ingress",flag="RST"} 3
networkobservability_tcp_flag_gauges{direction="ingress",flag="SYN"} 15
networkobservability_tcp_flag_gauges{direction="ingress",flag="SYNACK"} 11
# HELP networkobservability_windows_hns_stats Include many different metrics from packets sent/received to closed connections
# TYPE networkobservability_windows_hns_stats gauge
networkobservability_windows_hns_stats{direction="win_packets_recv_count"} 940
networkobservability_windows_hns_stats{direction="win_packets_sent_count"} 730
`
	if err := testutil.CollectAndCompare(n.Collector(), strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	// The Linux readers are left out of a Windows node.
	for _, r := range n.readers {
		if r.name != "hns" {
			t.Errorf("reader %q on a Windows node", r.name)
		}
	}
	// A failed read leaves the series out and says so.
	broken, err := New(slog.New(slog.DiscardHandler), WithHNS(fixtureHNS{t: t, err: errors.New("HNS unavailable")}))
	if err != nil {
		t.Fatal(err)
	}
	if got := testutil.CollectAndCount(broken.Collector()); got != 0 {
		t.Errorf("%d series from a failed read, want 0", got)
	}
}
