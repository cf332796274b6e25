package observer

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// FuzzValidateFlowsRequest: any GetFlows request is accepted or refused
// with an error (filters, field mask, time range and counts together).
func FuzzValidateFlowsRequest(f *testing.F) {
	for _, req := range []*observerpb.GetFlowsRequest{
		{Number: 20, Follow: true, Whitelist: []*flowpb.FlowFilter{{SourcePod: []string{"a/"}}}},
		{First: true, Since: timestamppb.Now(), FieldMask: &fieldmaskpb.FieldMask{Paths: []string{"source.namespace"}}},
		{Since: &timestamppb.Timestamp{Seconds: -1 << 40}, Until: &timestamppb.Timestamp{Nanos: -1}},
		{Blacklist: []*flowpb.FlowFilter{{Experimental: &flowpb.FlowFilter_Experimental{CelExpression: []string{"_flow.x"}}}}},
	} {
		b, err := proto.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req observerpb.GetFlowsRequest
		if err := proto.Unmarshal(data, &req); err != nil {
			return
		}
		_ = ValidateFlowsRequest(&req)
	})
}
