//go:build linux

package cluster

import (
	"net/netip"
	"slices"
	"testing"
)

func TestAddPodIsReachableAndListed(t *testing.T) {
	c := buildTestCluster(t)
	old := c.Topology.Pods()
	p, err := c.AddPod(t.Context(), "node1")
	if err != nil {
		t.Fatal(err)
	}
	pods := c.Topology.Pods()
	if len(pods) != len(old)+1 || !slices.ContainsFunc(pods, func(q Pod) bool { return q.Key() == p.Key() }) {
		t.Fatalf("topology has %d pods, want %d including %s", len(pods), len(old)+1, p.Key())
	}
	for _, q := range old {
		if q.Key() == p.Key() || q.IPv4 == p.IPv4 || q.HostVeth == p.HostVeth || q.Netns == p.Netns {
			t.Fatalf("new pod %+v clashes with %+v", p, q)
		}
	}
	other := old[len(old)-1] // on node2 with the default layout
	for _, addr := range []netip.Addr{other.IPv4, other.IPv6} {
		if out, err := NewNetns(p.Netns).Exec(t.Context(), "ping", "-c", "1", "-W", "2", addr.String()); err != nil {
			t.Errorf("ping %s -> %s: %v\n%s", p.Key(), addr, err, out)
		}
	}
	if _, err := c.AddPod(t.Context(), "node9"); err == nil {
		t.Error("AddPod on a node that does not exist succeeded")
	}
}
