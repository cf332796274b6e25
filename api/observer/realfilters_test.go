package observer_test

import (
	"slices"
	"strings"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/foveanet/fovea/api/filters"
	"github.com/foveanet/fovea/api/observer"
)

// TestAgentFilters checks the observer against the agent's filter package.
func TestAgentFilters(t *testing.T) {
	build := func(whitelist, blacklist []*flowpb.FlowFilter) (filters.Func, error) {
		return filters.Build(whitelist, blacklist)
	}
	e := newEnv(t, 15, nil, observer.WithFilterBuilder(build))
	e.write(6)

	res := e.getFlows(&observerpb.GetFlowsRequest{Number: 2, Whitelist: []*flowpb.FlowFilter{{DestinationPort: []string{"443"}}}})
	if res.err != nil || !slices.Equal(res.ports, []uint32{3, 5}) {
		t.Fatalf("ports %v, err %v", res.ports, res.err)
	}
	res = e.getFlows(&observerpb.GetFlowsRequest{Whitelist: []*flowpb.FlowFilter{{SourceIp: []string{"not-an-ip"}}}})
	if status.Code(res.err) != codes.InvalidArgument || !strings.Contains(res.err.Error(), "source_ip") {
		t.Fatalf("bad source_ip: %v", res.err)
	}
}
