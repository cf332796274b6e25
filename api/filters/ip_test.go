package filters

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

func TestIPFilters(t *testing.T) {
	f := mustBuild(t, &flowpb.FlowFilter{SourceIp: []string{"10.0.0.1", "192.168.0.0/16", "2001:db8::/32"}})
	checkEvents(t, f, []eventCase{
		{"exact", ev{src: "10.0.0.1"}, true},
		{"other", ev{src: "10.0.0.3"}, false},
		{"in CIDR", ev{src: "192.168.4.5"}, true},
		{"destination ignored", ev{src: "10.9.9.9", dst: "10.0.0.1"}, false},
		{"IPv6 CIDR", ev{src: "2001:db8::7", dst: "2001:db8::8"}, true},
		{"IPv6 outside", ev{src: "2001:db9::7", dst: "2001:db8::8"}, false},
	})
	f = mustBuild(t, &flowpb.FlowFilter{DestinationIp: []string{"10.0.0.0/30"}})
	checkEvents(t, f, []eventCase{
		{"in", ev{dst: "10.0.0.3"}, true},
		{"out", ev{dst: "10.0.0.4"}, false},
	})
	f = mustBuild(t, &flowpb.FlowFilter{SourceIp: []string{"0.0.0.0/0"}})
	checkEvents(t, f, []eventCase{{"IPv6 not in IPv4 any", ev{src: "::1", dst: "::2"}, false}})
}

func TestIPFilterErrors(t *testing.T) {
	wantErr(t, &flowpb.FlowFilter{SourceIp: []string{"10.0.0/33"}}, `whitelist[0].source_ip: invalid IP or CIDR "10.0.0/33"`)
	wantErr(t, &flowpb.FlowFilter{DestinationIp: []string{"1.2.3.4", "foo"}}, `whitelist[0].destination_ip: invalid IP or CIDR "foo"`)
	wantErr(t, &flowpb.FlowFilter{SourceIpXlated: []string{""}}, `whitelist[0].source_ip_xlated: invalid IP or CIDR ""`)
}

func TestSourceIPXlated(t *testing.T) {
	s, err := parseIPSet("source_ip_xlated", []string{"10.1.0.0/16", "fd00::1"})
	if err != nil {
		t.Fatal(err)
	}
	checkFlows(t, sourceIPXlatedIn(s), []flowCase{
		{"in CIDR", &flowpb.Flow{IP: &flowpb.IP{SourceXlated: "10.1.2.3"}}, true},
		{"exact v6", &flowpb.Flow{IP: &flowpb.IP{SourceXlated: "fd00::1"}}, true},
		{"unset", &flowpb.Flow{IP: &flowpb.IP{Source: "10.1.2.3"}}, false},
		{"no IP", &flowpb.Flow{}, false},
		{"nil", nil, false},
	})
}

func TestIPVersion(t *testing.T) {
	f := mustBuild(t, &flowpb.FlowFilter{IpVersion: []flowpb.IPVersion{flowpb.IPVersion_IPv6}})
	checkEvents(t, f, []eventCase{
		{"v6", ev{src: "::1", dst: "::2"}, true},
		{"v4", ev{}, false},
	})
	f = mustBuild(t, &flowpb.FlowFilter{IpVersion: []flowpb.IPVersion{flowpb.IPVersion_IP_NOT_USED, flowpb.IPVersion_IPv4}})
	checkEvents(t, f, []eventCase{
		{"v4", ev{}, true},
		{"v6", ev{src: "::1", dst: "::2"}, false},
	})
	if f(lostEvent(testNode())) {
		t.Fatal("lost event matched ip_version")
	}
}
