//go:build linux

package retina

import (
	"log/slog"
	"testing"

	"github.com/foveanet/fovea/bpf"
)

type fakeDatapath struct {
	forward []bpf.ForwardCount
	drops   []bpf.DropCount
}

func (f fakeDatapath) ForwardCounts() ([]bpf.ForwardCount, error) { return f.forward, nil }
func (f fakeDatapath) DropCounts() []bpf.DropCount                { return f.drops }

// TestDatapathSeriesGolden: forward counts are the interfaces facing the
// network (a pod veth's packets are on the uplink too), drops every
// interface's by direction and the kernel's reason.
func TestDatapathSeriesGolden(t *testing.T) {
	dp := fakeDatapath{
		forward: []bpf.ForwardCount{
			{Interface: "eth0", Network: true, Dir: bpf.Ingress, Packets: 100, Bytes: 10000},
			{Interface: "eth0", Network: true, Dir: bpf.Egress, Packets: 80, Bytes: 9000},
			{Interface: "eth1", Network: true, Dir: bpf.Egress, Packets: 1, Bytes: 60},
			{Interface: "veth1", Dir: bpf.Ingress, Packets: 50, Bytes: 5000},
		},
		drops: []bpf.DropCount{
			{Reason: "NETFILTER_DROP", Interface: "eth0", Dir: bpf.Ingress, Packets: 2, Bytes: 120},
			{Reason: "NETFILTER_DROP", Interface: "veth1", Dir: bpf.Ingress, Packets: 1, Bytes: 60},
			{Reason: "NETFILTER_DROP", Dir: bpf.Egress, Packets: 3, Bytes: 180},
			{Reason: "NO_SOCKET", Dir: bpf.Ingress, Packets: 5, Bytes: 300},
		},
	}
	c, err := New(slog.New(slog.DiscardHandler), WithDatapath(dp))
	if err != nil {
		t.Fatal(err)
	}
	c.readers = c.readers[:1]
	got := scrape(t, c.Collector())
	golden(t, "datapath.golden", got)
	checkPromtool(t, got)
}
