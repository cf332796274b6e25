package retina

import (
	"bytes"
	"flag"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/procfs"
)

var update = flag.Bool("update", false, "rewrite the golden scrapes in testdata instead of comparing with them")

func ptr(v float64) *float64 { return &v }

// fixedNode is a node whose readers return fixed inputs, through the same
// tallies as the system's.
func fixedNode(t *testing.T) *Node {
	t.Helper()
	c, err := New(slog.New(slog.DiscardHandler), WithRemoteLimit(2))
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort
	tcp := []tcpSocket{
		{state: 10, remote: ap("0.0.0.0:0")}, {state: 10, remote: ap("[::]:0")},
		{state: 1, remote: ap("10.0.0.7:443")}, {state: 1, remote: ap("10.0.0.7:443")},
		{state: 1, remote: ap("[::ffff:10.0.0.8]:6443")}, {state: 1, remote: ap("127.0.0.1:9090")},
		{state: 6, remote: ap("[fd00::9]:80")}, {state: 7, remote: ap("10.0.0.9:80")},
		{state: 2, remote: ap("10.0.0.10:22")},
	}
	netstat := procfs.ProcNetstat{
		TcpExt: procfs.TcpExt{ListenDrops: ptr(3), TCPTimeouts: ptr(12), TCPTSReorder: ptr(0)},
		IpExt:  procfs.IpExt{InOctets: ptr(1e6), OutOctets: ptr(2e6), InNoRoutes: ptr(0)},
	}
	links := []linkStats{
		{name: "eth0", stats: []linkStat{{"rx_errors", 0}, {"rx_dropped", 4}, {"tx_dropped", 1}}},
		{name: "lo", stats: []linkStat{{"rx_errors", 0}}},
	}
	c.readers = []reader{
		{name: "sockets", descs: []*prometheus.Desc{descTCPState, descTCPRemote, descUDPStats}, read: func() ([]prometheus.Metric, error) {
			out, omitted := tallySockets(tcp, 5, c.remoteLimit)
			c.setOmitted(omitted)
			return out, nil
		}},
		{name: "netstat", descs: []*prometheus.Desc{descTCPStats, descIPStats}, read: func() ([]prometheus.Metric, error) {
			return netstatSeries(netstat), nil
		}},
		{name: "interfaces", descs: []*prometheus.Desc{descIfaceStat}, read: func() ([]prometheus.Metric, error) {
			return interfaceSeries(links), nil
		}},
		{name: "conntrack", descs: []*prometheus.Desc{descConntrackPacketsTx, descConntrackPacketsRx,
			descConntrackBytesTx, descConntrackBytesRx, descConntrackTotal}, read: func() ([]prometheus.Metric, error) {
			return conntrackTotals{packetsTx: 10, packetsRx: 8, bytesTx: 1000, bytesRx: 900, connections: 2}.series(), nil
		}},
	}
	return c
}

// scrape gathers cs as Prometheus' text format.
func scrape(t *testing.T, cs ...prometheus.Collector) []byte {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range cs {
		reg.MustRegister(c)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("scrape differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

// TestNodeSeriesGolden: the node series of fixed kernel readings: states
// by Retina's names (CLOSE as ""), remotes without loopback and listeners,
// the two with most sockets kept, zeros left out.
func TestNodeSeriesGolden(t *testing.T) {
	c := fixedNode(t)
	golden(t, "node.golden", scrape(t, c.Collector()))
	golden(t, "health.golden", scrape(t, c.HealthCollector()))
}

// promtoolExceptions are the only complaints promtool may make of Retina's
// series: its counters' names, which are its contract, lack _total, and
// some end in _count.
var promtoolExceptions = map[string][]string{
	"networkobservability_forward_count":      {suffixTotal, suffixCount},
	"networkobservability_forward_bytes":      {suffixTotal},
	"networkobservability_drop_count":         {suffixTotal, suffixCount},
	"networkobservability_drop_bytes":         {suffixTotal},
	"networkobservability_dns_request_count":  {suffixTotal, suffixCount},
	"networkobservability_dns_response_count": {suffixTotal, suffixCount},
	// The pod series (agent/flowmetrics), checked by TestRetinaPodSeriesPassPromtool.
	"networkobservability_adv_forward_count":              {suffixTotal, suffixCount},
	"networkobservability_adv_forward_bytes":              {suffixTotal},
	"networkobservability_adv_drop_count":                 {suffixTotal, suffixCount},
	"networkobservability_adv_drop_bytes":                 {suffixTotal},
	"networkobservability_adv_tcpflags_count":             {suffixTotal, suffixCount},
	"networkobservability_adv_tcpretrans_count":           {suffixTotal, suffixCount},
	"networkobservability_adv_dns_request_count":          {suffixTotal, suffixCount},
	"networkobservability_adv_dns_response_count":         {suffixTotal, suffixCount},
	"networkobservability_adv_node_apiserver_no_response": {suffixTotal},
}

const (
	suffixTotal = `counter metrics should have "_total" suffix`
	suffixCount = `non-histogram and non-summary metrics should not have "_count" suffix`
)

// checkPromtool runs `promtool check metrics` on a scrape and fails on any
// complaint but the listed exceptions.
func checkPromtool(t *testing.T, scrape []byte) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool (Debian package prometheus) is needed; scripts/install-deps.sh installs it: %v", err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(scrape)
	out, _ := cmd.CombinedOutput()
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSpace(line)
		name, complaint, _ := strings.Cut(line, " ")
		if line != "" && !slices.Contains(promtoolExceptions[name], complaint) {
			t.Errorf("promtool check metrics: %s", line)
		}
	}
}

func TestNodeSeriesPassPromtool(t *testing.T) {
	checkPromtool(t, scrape(t, fixedNode(t).Collector()))
}

// TestRetinaPodSeriesPassPromtool: the pod series counted from flows pass
// promtool but for the listed exceptions.
func TestRetinaPodSeriesPassPromtool(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "flowmetrics", "testdata", "retina-remote.golden"))
	if err != nil {
		t.Fatal(err)
	}
	checkPromtool(t, data)
}
