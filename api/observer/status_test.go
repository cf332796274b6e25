package observer_test

import (
	"context"
	"math"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	relaypb "github.com/cilium/cilium/api/v1/relay"

	"github.com/foveanet/fovea/api/observer"
)

func TestServerStatus(t *testing.T) {
	for _, tc := range []struct {
		name     string
		capacity int
		written  int
		nowAt    int // now is ts(nowAt)
		wantRate float64
	}{
		// 10 flows, all within the last minute of an unwrapped ring.
		{"within a minute", 15, 10, 30, 10.0 / 60},
		// Only flows 39..99 are at most 60 s old.
		{"older flows ignored", 127, 100, 99, 61.0 / 60},
		// The ring kept the last 7 flows, spanning 6 s before now (ts(19)):
		// the rate is over what it holds.
		{"wrapped ring", 7, 20, 19, 7.0 / 6},
		{"empty", 7, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := ts(tc.nowAt)
			start := now.Add(-time.Hour)
			e := newEnv(t, tc.capacity, nil,
				observer.WithClock(func() time.Time { return now }),
				observer.WithStartTime(start),
				observer.WithSeenFlows(func() uint64 { return 1234 }),
			)
			e.write(tc.written)
			st, err := e.client.ServerStatus(context.Background(), &observerpb.ServerStatusRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if st.NumFlows != uint64(min(tc.written, tc.capacity)) || st.MaxFlows != uint64(tc.capacity) ||
				st.SeenFlows != 1234 || st.UptimeNs != uint64(time.Hour) || st.Version != "v9.9.9" ||
				st.NumConnectedNodes != nil || st.NumUnavailableNodes != nil {
				t.Fatalf("status = %v", st)
			}
			if math.Abs(st.FlowsRate-tc.wantRate) > 1e-9 {
				t.Fatalf("flows_rate = %v, want %v", st.FlowsRate, tc.wantRate)
			}
		})
	}
}

func TestGetNodes(t *testing.T) {
	now := time.Now()
	e := newEnv(t, 7, nil,
		observer.WithClock(func() time.Time { return now }),
		observer.WithStartTime(now.Add(-time.Minute)),
		observer.WithNodeAddress("10.1.2.3:4244"),
		observer.WithTLSServerName("node-1.kind.hubble-grpc.cilium.io"),
		observer.WithVersion("v1.2.3"),
	)
	e.write(3)
	resp, err := e.client.GetNodes(context.Background(), &observerpb.GetNodesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Nodes) != 1 {
		t.Fatalf("nodes = %v", resp.Nodes)
	}
	n := resp.Nodes[0]
	if n.Name != "kind/node-1" || n.Address != "10.1.2.3:4244" || n.State != relaypb.NodeState_NODE_CONNECTED ||
		n.Version != "v1.2.3" || n.UptimeNs != uint64(time.Minute) || n.NumFlows != 3 || n.MaxFlows != 7 ||
		!n.GetTls().GetEnabled() || n.GetTls().GetServerName() != "node-1.kind.hubble-grpc.cilium.io" {
		t.Fatalf("node = %v", n)
	}
}

func TestGetNamespaces(t *testing.T) {
	now := ts(0)
	tracker := observer.NewNamespaceTracker(
		observer.WithNamespaceCluster("kind"),
		observer.WithNamespaceClock(func() time.Time { return now }),
	)
	e := newEnv(t, 7, nil, observer.WithNamespaces(tracker))
	tracker.Observe("", "zeta", now.Add(-2*time.Hour))
	tracker.Observe("", "demo", now.Add(-time.Minute))
	tracker.Observe("", "kube-system", now.Add(-30*time.Minute))
	tracker.Observe("alpha", "zeta", now)
	tracker.Observe("", "", now)
	resp, err := e.client.GetNamespaces(context.Background(), &observerpb.GetNamespacesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alpha/zeta", "kind/demo", "kind/kube-system"}
	var got []string
	for _, ns := range resp.Namespaces {
		got = append(got, ns.Cluster+"/"+ns.Namespace)
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("namespaces = %v, want %v", got, want)
	}
	// An old namespace seen again is listed again.
	tracker.Observe("", "zeta", now)
	if n := len(tracker.Namespaces()); n != 4 {
		t.Fatalf("%d namespaces after zeta returned", n)
	}
}

func TestGetNamespacesWithoutSource(t *testing.T) {
	e := newEnv(t, 7, nil)
	resp, err := e.client.GetNamespaces(context.Background(), &observerpb.GetNamespacesRequest{})
	if err != nil || len(resp.Namespaces) != 0 {
		t.Fatalf("got %v, %v", resp, err)
	}
}

func BenchmarkNamespaceTrackerObserve(b *testing.B) {
	tracker := observer.NewNamespaceTracker(observer.WithNamespaceCluster("kind"))
	at := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tracker.Observe("", "demo", at)
		}
	})
}

func agentStart(i int) *flowpb.AgentEvent {
	return &flowpb.AgentEvent{
		Type:         flowpb.AgentEventType_AGENT_STARTED,
		Notification: &flowpb.AgentEvent_Unknown{Unknown: &flowpb.AgentEventUnknown{Type: "test", Notification: string(rune('a' + i))}},
	}
}
