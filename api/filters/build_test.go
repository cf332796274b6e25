package filters

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
)

func TestBuildWhitelistBlacklist(t *testing.T) {
	n := testNode()
	a := ev{src: "10.0.0.1", dst: "10.0.0.2"}.build(n)
	b := ev{src: "10.0.0.3", dst: "10.0.0.2"}.build(n)
	c := ev{src: "10.0.0.4", dst: "10.0.0.9"}.build(n)
	srcA := &flowpb.FlowFilter{SourceIp: []string{"10.0.0.1"}}
	srcB := &flowpb.FlowFilter{SourceIp: []string{"10.0.0.3"}}
	dst2 := &flowpb.FlowFilter{DestinationIp: []string{"10.0.0.2"}}
	for _, tc := range []struct {
		name        string
		allow, deny []*flowpb.FlowFilter
		want        [3]bool
	}{
		{"empty passes all", nil, nil, [3]bool{true, true, true}},
		{"whitelist ORs filters", []*flowpb.FlowFilter{srcA, srcB}, nil, [3]bool{true, true, false}},
		{"blacklist rejects matches", nil, []*flowpb.FlowFilter{srcA}, [3]bool{false, true, true}},
		{"both", []*flowpb.FlowFilter{dst2}, []*flowpb.FlowFilter{srcB}, [3]bool{true, false, false}},
		{"fields AND", []*flowpb.FlowFilter{{SourceIp: []string{"10.0.0.3"}, DestinationIp: []string{"10.0.0.9"}}}, nil, [3]bool{false, false, false}},
		{"nil filter matches all", []*flowpb.FlowFilter{nil}, nil, [3]bool{true, true, true}},
		{"empty filter in blacklist rejects all", nil, []*flowpb.FlowFilter{{}}, [3]bool{false, false, false}},
	} {
		f, err := Build(tc.allow, tc.deny)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for i, e := range []*flowview.Flow{a, b, c} {
			if got := f(e); got != tc.want[i] {
				t.Errorf("%s: event %d: got %v, want %v", tc.name, i, got, tc.want[i])
			}
		}
	}
}

func TestBuildErrorNamesListAndField(t *testing.T) {
	_, err := Build(
		[]*flowpb.FlowFilter{{SourceIp: []string{"10.0.0.1"}}},
		[]*flowpb.FlowFilter{{}, {}, {SourceIp: []string{"10.0.0/33"}}},
	)
	if err == nil || err.Error() != `blacklist[2].source_ip: invalid IP or CIDR "10.0.0/33"` {
		t.Fatalf("got %v", err)
	}
	_, err = Build([]*flowpb.FlowFilter{{DestinationPort: []string{"http"}}}, nil)
	if err == nil || err.Error() != `whitelist[0].destination_port: invalid port "http": want a number from 0 to 65535` {
		t.Fatalf("got %v", err)
	}
}

func TestLostEvents(t *testing.T) {
	n := testNode()
	lost := lostEvent(n)
	for _, tc := range []struct {
		ff   *flowpb.FlowFilter
		want bool
	}{
		{&flowpb.FlowFilter{EventType: []*flowpb.EventTypeFilter{{Type: 4}}}, true},
		{&flowpb.FlowFilter{Verdict: []flowpb.Verdict{flowpb.Verdict_FORWARDED}}, false},
		{&flowpb.FlowFilter{SourceIp: []string{"0.0.0.0/0"}}, false},
		{&flowpb.FlowFilter{SourceLabel: []string{"!k8s:app"}}, true},
		{&flowpb.FlowFilter{NodeLabels: []string{"kubernetes.io/arch"}}, false},
		{&flowpb.FlowFilter{Reply: []bool{false}}, false},
		{&flowpb.FlowFilter{IpTraceId: []uint64{0}}, true},
		{&flowpb.FlowFilter{Uuid: []string{""}}, false},
		{&flowpb.FlowFilter{NodeName: []string{"prod/node-1"}}, false},
		{&flowpb.FlowFilter{Experimental: &flowpb.FlowFilter_Experimental{CelExpression: []string{"true"}}}, false},
	} {
		if got := mustBuild(t, tc.ff)(lost); got != tc.want {
			t.Errorf("%v on a lost event: got %v, want %v", tc.ff, got, tc.want)
		}
	}
}
