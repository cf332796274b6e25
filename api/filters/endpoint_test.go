package filters

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

func TestIdentityFilter(t *testing.T) {
	f := mustBuild(t, &flowpb.FlowFilter{SourceIdentity: []uint32{1, 2}, DestinationIdentity: []uint32{42}})
	checkEvents(t, f, []eventCase{
		{"both", ev{srcEP: &flowpb.Endpoint{Identity: 2}, dstEP: &flowpb.Endpoint{Identity: 42}}, true},
		{"wrong source", ev{srcEP: &flowpb.Endpoint{Identity: 3}, dstEP: &flowpb.Endpoint{Identity: 42}}, false},
		{"wrong destination", ev{srcEP: &flowpb.Endpoint{Identity: 1}, dstEP: &flowpb.Endpoint{Identity: 4}}, false},
	})
}

func TestWorkloadFilter(t *testing.T) {
	ep := &flowpb.Endpoint{Workloads: []*flowpb.Workload{{Kind: "Deployment", Name: "web"}}}
	for _, tc := range []struct {
		w    *flowpb.Workload
		want bool
	}{
		{&flowpb.Workload{Kind: "Deployment", Name: "web"}, true},
		{&flowpb.Workload{Name: "web"}, true},
		{&flowpb.Workload{Kind: "Deployment"}, true},
		{&flowpb.Workload{Kind: "StatefulSet", Name: "web"}, false},
		{&flowpb.Workload{Name: "api"}, false},
		{&flowpb.Workload{}, true},
	} {
		f := mustBuild(t, &flowpb.FlowFilter{DestinationWorkload: []*flowpb.Workload{tc.w}})
		checkEvents(t, f, []eventCase{{tc.w.String(), ev{dstEP: ep}, tc.want}})
		f = mustBuild(t, &flowpb.FlowFilter{SourceWorkload: []*flowpb.Workload{tc.w}})
		checkEvents(t, f, []eventCase{{"no workloads " + tc.w.String(), ev{dstEP: ep}, false}})
	}
}

func TestClusterNameFilter(t *testing.T) {
	f := mustBuild(t, &flowpb.FlowFilter{SourceClusterName: []string{"east", "west"}})
	checkEvents(t, f, []eventCase{
		{"match", ev{srcEP: &flowpb.Endpoint{ClusterName: "west"}}, true},
		{"other", ev{srcEP: &flowpb.Endpoint{ClusterName: "north"}}, false},
		{"unset", ev{}, false},
	})
	f = mustBuild(t, &flowpb.FlowFilter{DestinationClusterName: []string{"east"}})
	checkEvents(t, f, []eventCase{{"destination", ev{dstEP: &flowpb.Endpoint{ClusterName: "east"}}, true}})
	wantErr(t, &flowpb.FlowFilter{DestinationClusterName: []string{""}}, `whitelist[0].destination_cluster_name: cluster name must not be empty`)
}

func TestInterfaceFilter(t *testing.T) {
	eth0 := &flowpb.NetworkInterface{Index: 2, Name: "eth0"}
	for _, tc := range []struct {
		f    *flowpb.NetworkInterface
		want bool
	}{
		{&flowpb.NetworkInterface{Name: "eth0"}, true},
		{&flowpb.NetworkInterface{Index: 2}, true},
		{&flowpb.NetworkInterface{Index: 2, Name: "eth1"}, false},
		{&flowpb.NetworkInterface{Index: 3}, false},
		{&flowpb.NetworkInterface{}, true},
	} {
		f := mustBuild(t, &flowpb.FlowFilter{Interface: []*flowpb.NetworkInterface{tc.f}})
		checkEvents(t, f, []eventCase{
			{tc.f.String(), ev{iface: eth0}, tc.want},
			{"no interface " + tc.f.String(), ev{}, false},
		})
	}
}
