//go:build linux

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/traffic"
)

// TestNewPodIsObservedWithinASecond creates a pod after the agents started
// and wants its traffic captured on its own veth less than a second after
// the pod existed: the agent attaches to new links as netlink announces them,
// where polling agents miss short-lived pods.
func TestNewPodIsObservedWithinASecond(t *testing.T) {
	e := setup(t)
	dst, sock := e.pod(0)
	p, err := e.cluster.AddPod(t.Context(), "node1")
	if err != nil {
		t.Fatal(err)
	}
	created := time.Now()
	src := traffic.Host{Name: p.Key(), Netns: cluster.NewNetns(p.Netns), IPv4: p.IPv4, IPv6: p.IPv6}

	// Ping until a flow shows on the new veth; the first one's kernel time
	// says when capture began, however long the CLI took to show it.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var first time.Time
	eventually(t, 10*time.Second, func() error {
		if _, err := traffic.ICMP(ctx, src, dst, traffic.IPv4, 1); err != nil {
			return err
		}
		for _, f := range e.observeJSON(t, sock, "--last", "100000", "--ip", p.IPv4.String()) {
			if f.GetInterface().GetName() == p.HostVeth {
				if at := f.GetTime().AsTime(); first.IsZero() || at.Before(first) {
					first = at
				}
			}
		}
		if first.IsZero() {
			return fmt.Errorf("no flow on %s (the new pod's veth) yet", p.HostVeth)
		}
		return nil
	})
	lag := first.Sub(created)
	if lag > time.Second {
		t.Fatalf("first flow on the new pod's veth %v after the pod was created, want < 1s", lag)
	}
	t.Logf("first flow on the new pod's veth %v after the pod was created", lag)
}
