package observer_test

import (
	"testing"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// BenchmarkGetFlows streams a full ring of 4095 flows over an in-memory
// connection per iteration; ns/op divided by 4095 is the cost per flow.
func BenchmarkGetFlows(b *testing.B) {
	for _, bc := range []struct {
		name string
		req  *observerpb.GetFlowsRequest
	}{
		{"all", &observerpb.GetFlowsRequest{}},
		{"compact mask", &observerpb.GetFlowsRequest{FieldMask: &fieldmaskpb.FieldMask{Paths: []string{
			"time", "verdict", "IP", "l4", "source.identity", "source.namespace", "source.pod_name",
			"destination.identity", "destination.namespace", "destination.pod_name", "Type", "node_name",
			"event_type", "is_reply", "Summary", "traffic_direction",
		}}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b, 4095, nil)
			e.write(4095)
			b.ReportAllocs()
			for b.Loop() {
				res := e.getFlows(bc.req)
				if res.err != nil || len(res.flows) != 4095 {
					b.Fatalf("%d flows, err %v", len(res.flows), res.err)
				}
			}
		})
	}
}
