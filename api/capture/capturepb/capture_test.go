package capturepb_test

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/proto"

	"github.com/foveanet/fovea/api/capture/capturepb"
)

// TestFlowFilterIsHubbles checks that the selector's flow filters resolve to
// the FlowFilter Hubble's code registers, so one message serves both APIs.
func TestFlowFilterIsHubbles(t *testing.T) {
	field := (&capturepb.Selector{}).ProtoReflect().Descriptor().Fields().ByName("flow_filters")
	if field == nil {
		t.Fatal("Selector has no flow_filters field")
	}
	if got, want := field.Message().FullName(), (&flowpb.FlowFilter{}).ProtoReflect().Descriptor().FullName(); got != want {
		t.Fatalf("flow_filters is %s, want %s", got, want)
	}
	in := &capturepb.StartRequest{Selector: &capturepb.Selector{FlowFilters: []*flowpb.FlowFilter{{SourcePod: []string{"prod/web"}}}}}
	b, err := proto.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := new(capturepb.StartRequest)
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(in, out) {
		t.Fatalf("round trip changed the request: %v", out)
	}
	if capturepb.File_capture_proto.Services().ByName("Capture") == nil {
		t.Fatal("no Capture service")
	}
}
