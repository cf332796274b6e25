//go:build linux

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/foveanet/fovea/test/hubbleui"
	"github.com/foveanet/fovea/test/traffic"
)

// testHubbleUIContract sends through the relay exactly the request Hubble
// UI's backend streams for namespace demo, and wants every generated
// connection touching demo to show its request-direction flows with what the
// UI draws (l4, both endpoints, identity, workload, labels) and none of its
// replies, and nothing that is not about demo.
func testHubbleUIContract(t *testing.T, re *relayEnv) {
	hosts := map[string][]traffic.Host{} // namespace → pods, in node order
	for _, h := range re.hosts {
		ns := strings.SplitN(h.Name, "/", 2)[0]
		hosts[ns] = append(hosts[ns], h)
	}
	demo, other := hosts["demo"], hosts["default"]
	if len(demo) < 2 || len(other) < 1 {
		t.Fatalf("want two demo pods and one default pod, have %v", re.hosts)
	}

	conn, err := grpc.NewClient("unix://"+re.relay, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	stream, err := observerpb.NewObserverClient(conn).GetFlows(ctx, hubbleui.FlowsRequest("demo"))
	if err != nil {
		t.Fatal(err)
	}

	var conns []traffic.Conn
	for _, pair := range [][2]traffic.Host{{demo[0], demo[len(demo)-1]}, {other[0], demo[1]}} {
		c, err := traffic.TCPShort(ctx, pair[0], pair[1], traffic.IPv4)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}

	flows := make(chan *flowpb.Flow)
	errs := make(chan error, 1)
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				errs <- err
				return
			}
			if f := resp.GetFlow(); f != nil {
				select {
				case flows <- f:
				case <-ctx.Done():
					return
				}
			}
		}
	}()

	// Once every connection's requests arrived, keep reading a while: a
	// reply let through would come right after.
	seen := make([]bool, len(conns))
	var quiet <-chan time.Time
	for {
		select {
		case f := <-flows:
			if err := uiFlowProblem(f); err != nil {
				t.Fatalf("flow %s -> %s: %v", f.GetIP().GetSource(), f.GetIP().GetDestination(), err)
			}
			for i, c := range conns {
				requests, replies := connFlows(c, []*flowpb.Flow{f})
				if len(replies) > 0 {
					t.Fatalf("%s: a reply reached the UI: %s", c, f.GetSummary())
				}
				seen[i] = seen[i] || len(requests) > 0
			}
			if quiet == nil && !containsFalse(seen) {
				quiet = time.After(2 * time.Second)
			}
		case <-quiet:
			return
		case err := <-errs:
			t.Fatalf("stream ended (%v) with request flows seen %v for %v", err, seen, conns)
		}
	}
}

// uiFlowProblem says what about f would break Hubble UI's request for demo.
func uiFlowProblem(f *flowpb.Flow) error {
	if !hubbleui.Usable(f) {
		return fmt.Errorf("lacks l4, source or destination")
	}
	if f.GetIsReply() == nil || f.GetIsReply().GetValue() {
		return fmt.Errorf("is_reply %v passed reply:[false]", f.GetIsReply())
	}
	src, dst := f.GetSource(), f.GetDestination()
	if src.GetNamespace() != "demo" && dst.GetNamespace() != "demo" {
		return fmt.Errorf("neither end is in demo (%s, %s)", src.GetNamespace(), dst.GetNamespace())
	}
	for _, ep := range []*flowpb.Endpoint{src, dst} {
		if ep.GetIdentity() < 256 || len(ep.GetWorkloads()) == 0 || !hasLabelPrefix(ep.GetLabels(), "k8s:app=") {
			return fmt.Errorf("endpoint %s/%s has identity %d, workloads %v, labels %v: the UI cannot place it",
				ep.GetNamespace(), ep.GetPodName(), ep.GetIdentity(), ep.GetWorkloads(), ep.GetLabels())
		}
	}
	return nil
}

func hasLabelPrefix(labels []string, prefix string) bool {
	for _, l := range labels {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func containsFalse(bs []bool) bool {
	for _, b := range bs {
		if !b {
			return true
		}
	}
	return false
}
