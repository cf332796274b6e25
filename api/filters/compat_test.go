package filters

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// hubbleBinary returns the hubble CLI to compare against: $FOVEA_HUBBLE or
// the repository's .bin/hubble.
func hubbleBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the hubble CLI")
	}
	bin := os.Getenv("FOVEA_HUBBLE")
	if bin == "" {
		bin = filepath.Join("..", "..", ".bin", "hubble")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no hubble CLI: %v", err)
	}
	return bin
}

// compatEvents are events whose flows exercise every filter family.
func compatEvents(n *flowview.Node) []*flowview.Flow {
	web := &flowpb.Endpoint{
		Identity: 1234, Namespace: "demo", PodName: "web-1", ClusterName: "prod",
		Labels:    []string{"k8s:app=web", "k8s:io.kubernetes.pod.namespace=demo", "k8s:tier=1"},
		Workloads: []*flowpb.Workload{{Kind: "Deployment", Name: "web"}},
	}
	dns := &flowpb.Endpoint{
		Identity: 99, Namespace: "kube-system", PodName: "coredns-x", ClusterName: "prod",
		Labels: []string{"k8s:k8s-app=kube-dns", "k8s:io.kubernetes.pod.namespace=kube-system"},
	}
	world := &flowpb.Endpoint{Identity: 2, Labels: []string{"reserved:world"}}
	host := &flowpb.Endpoint{Identity: 1, Labels: []string{"reserved:host"}}
	eth0 := &flowpb.NetworkInterface{Index: 2, Name: "eth0"}
	svc := &flowpb.Service{Namespace: "kube-system", Name: "kube-dns"}
	defs := []ev{
		{proto: record.ProtoTCP, tcp: record.TCPSyn, sport: 40000, dport: 443, reply: ptr(false), verdict: flowpb.Verdict_FORWARDED,
			obs: flowpb.TraceObservationPoint_FROM_ENDPOINT, srcEP: web, dstEP: world, dstNames: []string{"api.example.com"}, iface: eth0},
		{proto: record.ProtoTCP, tcp: record.TCPSyn | record.TCPAck, sport: 443, dport: 40000, reply: ptr(true), verdict: flowpb.Verdict_FORWARDED,
			obs: flowpb.TraceObservationPoint_TO_STACK, src: "93.184.216.34", dst: "10.0.0.1", srcEP: world, dstEP: web, srcNames: []string{"api.example.com"}},
		{proto: record.ProtoUDP, sport: 5353, dport: 53, reply: ptr(false), verdict: flowpb.Verdict_FORWARDED,
			obs: flowpb.TraceObservationPoint_TO_OVERLAY, dst: "10.96.0.10", srcEP: web, dstEP: dns, dstSvc: svc, dstNames: []string{"kube-dns.kube-system.svc.cluster.local"}},
		{kind: record.KindDrop, proto: record.ProtoTCP, tcp: record.TCPSyn, sport: 1, dport: 22, verdict: flowpb.Verdict_DROPPED,
			dropReason: flowpb.DropReason_POLICY_DENIED, src: "fd00::1", dst: "fd00::2", srcEP: host, dstEP: web},
		{kind: record.KindDrop, proto: record.ProtoICMP, verdict: flowpb.Verdict_DROPPED, dropReason: flowpb.DropReason_CT_NO_MAP_FOUND, srcEP: web},
		{proto: record.ProtoICMPv6, verdict: flowpb.Verdict_FORWARDED, src: "fe80::1", dst: "ff02::2", reply: ptr(false), obs: flowpb.TraceObservationPoint_FROM_NETWORK, iface: eth0},
		{proto: record.ProtoSCTP, sport: 9, dport: 36412, verdict: flowpb.Verdict_FORWARDED, reply: ptr(false), obs: flowpb.TraceObservationPoint_FROM_HOST, srcEP: host, dstEP: dns},
	}
	events := make([]*flowview.Flow, len(defs))
	for i, d := range defs {
		e := d.build(n)
		e.Seq = uint64(i + 1) // distinct UUIDs identify the flows hubble prints
		events[i] = e
	}
	return events
}

// compatFilters cover every field the agent's flows carry data for.
var compatFilters = []*flowpb.FlowFilter{
	{SourceIp: []string{"10.0.0.0/8"}},
	{DestinationIp: []string{"fd00::2", "10.96.0.10"}},
	{SourcePod: []string{"demo/"}},
	{DestinationPod: []string{"kube-system/coredns"}},
	{SourcePod: []string{"web"}},
	{DestinationPod: []string{"/web"}},
	{SourceFqdn: []string{"*.example.com"}},
	{DestinationFqdn: []string{"*.cluster.local*"}},
	{SourceLabel: []string{"k8s:app=web"}},
	{SourceLabel: []string{"app"}},
	{DestinationLabel: []string{"reserved:world", "k8s:k8s-app=kube-dns"}},
	{SourceLabel: []string{"!reserved:host"}},
	{SourceLabel: []string{"k8s:tier>0"}},
	{DestinationLabel: []string{"k8s-app notin (kube-dns)"}},
	{DestinationService: []string{"kube-system/"}},
	{SourceWorkload: []*flowpb.Workload{{Name: "web"}}},
	{SourceClusterName: []string{"prod"}},
	{Verdict: []flowpb.Verdict{flowpb.Verdict_DROPPED}},
	{DropReasonDesc: []flowpb.DropReason{flowpb.DropReason_POLICY_DENIED}},
	{Interface: []*flowpb.NetworkInterface{{Name: "eth0"}}},
	{EventType: []*flowpb.EventTypeFilter{{Type: 1}}},
	{EventType: []*flowpb.EventTypeFilter{{Type: 4, SubType: 3, MatchSubType: true}}},
	{EventType: []*flowpb.EventTypeFilter{{Type: 1, SubType: 133, MatchSubType: true}}},
	{Protocol: []string{"tcp"}},
	{Protocol: []string{"icmp", "sctp"}},
	{Protocol: []string{"icmpv6"}},
	{SourcePort: []string{"443"}},
	{DestinationPort: []string{"53", "22"}},
	{Reply: []bool{false}},
	{Reply: []bool{true}},
	{SourceIdentity: []uint32{1, 2}},
	{DestinationIdentity: []uint32{1234}},
	{TcpFlags: []*flowpb.TCPFlags{{SYN: true, ACK: true}}},
	{TcpFlags: []*flowpb.TCPFlags{{SYN: true}}},
	{NodeName: []string{"prod/node-*"}},
	{NodeName: []string{"node-1"}},
	{NodeName: []string{"default/node-1"}},
	{NodeName: []string{"default/"}},
	{NodeLabels: []string{"kubernetes.io/arch=amd64"}},
	{IpVersion: []flowpb.IPVersion{flowpb.IPVersion_IPv6}},
	{Encrypted: []bool{false}},
	{Experimental: &flowpb.FlowFilter_Experimental{CelExpression: []string{`_flow.l4.TCP.destination_port == 443u`}}},
	{SourcePod: []string{"demo/"}, Reply: []bool{false}, Protocol: []string{"tcp"}},
	{DestinationFqdn: []string{"API.Example.COM."}},
	{SourceLabel: []string{"io.kubernetes.pod.namespace in (demo, kube-system)"}},
	{DestinationLabel: []string{"k8s:io.kubernetes.pod.namespace!=demo"}},
	{SourceIpXlated: []string{"10.0.0.0/8"}},
	{EventType: []*flowpb.EventTypeFilter{{Type: 0}}},
	{EventType: []*flowpb.EventTypeFilter{{Type: 129}}},
	{TrafficDirection: []flowpb.TrafficDirection{flowpb.TrafficDirection_EGRESS}},
	{TrafficDirection: []flowpb.TrafficDirection{flowpb.TrafficDirection_INGRESS}},
	{TcpFlags: []*flowpb.TCPFlags{{}}},
	{Reply: []bool{true, false}},
	{IpTraceId: []uint64{0}},
	{TraceId: []string{""}},
	{IpVersion: []flowpb.IPVersion{flowpb.IPVersion_IP_NOT_USED}},
	{SourcePort: []string{"0"}},
	{Uuid: []string{"nope"}},
}

// TestCompatWithHubbleCLI runs the real hubble CLI's filters (it filters
// flows read from a file locally) over the flows the events build and
// checks Build agrees on every event.
func TestCompatWithHubbleCLI(t *testing.T) {
	bin := hubbleBinary(t)
	// Without a cluster the flow's node_name is the bare node name, which
	// Hubble's filter reads as "default/<node>".
	n := flowview.NewNode("node-1", "", "v0.0.0-test", []string{"kubernetes.io/arch=amd64"}, intern.NewTables())
	events := compatEvents(n)
	var input bytes.Buffer
	for _, e := range events {
		f, err := protojson.Marshal(e.Flow())
		if err != nil {
			t.Fatal(err)
		}
		input.WriteString(`{"flow":`)
		input.Write(f)
		input.WriteString("}\n")
	}
	file := filepath.Join(t.TempDir(), "flows.json")
	if err := os.WriteFile(file, input.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ff := range compatFilters {
		js, err := protojson.Marshal(ff)
		if err != nil {
			t.Fatal(err)
		}
		for _, list := range []string{"--allowlist", "--denylist"} {
			want := hubbleMatches(t, bin, file, list, string(js))
			allow, deny := []*flowpb.FlowFilter{ff}, []*flowpb.FlowFilter(nil)
			if list == "--denylist" {
				allow, deny = nil, allow
			}
			f, err := Build(allow, deny)
			if err != nil {
				t.Fatalf("%s %s: %v", list, js, err)
			}
			for _, e := range events {
				if got := f(e); got != want[e.Flow().GetUuid()] {
					t.Errorf("%s %s: event %d: got %v, hubble %v", list, js, e.Seq, got, !got)
				}
			}
		}
	}
}

// hubbleMatches returns the UUIDs of the flows hubble prints for a filter.
func hubbleMatches(t *testing.T, bin, file, list, filter string) map[string]bool {
	t.Helper()
	cmd := exec.Command(bin, "observe", "--input-file", file, "--all", "-o", "jsonpb", list, filter)
	cmd.Env = append(os.Environ(), "HUBBLE_CONFIG=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hubble %s %s: %v", list, filter, err)
	}
	matched := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var resp struct {
			Flow struct {
				UUID string `json:"uuid"`
			} `json:"flow"`
		}
		if err := json.Unmarshal(sc.Bytes(), &resp); err != nil {
			t.Fatalf("hubble output %q: %v", sc.Text(), err)
		}
		matched[resp.Flow.UUID] = true
	}
	return matched
}

// TestCompatErrorsWithHubbleCLI checks that Build rejects what Hubble
// rejects and accepts what it accepts.
func TestCompatErrorsWithHubbleCLI(t *testing.T) {
	bin := hubbleBinary(t)
	file := filepath.Join(t.TempDir(), "flows.json")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ff := range []*flowpb.FlowFilter{
		{SourceIp: []string{"10.0.0/33"}},
		{SourceIp: []string{"10.0.0.1/32", "::/0"}},
		{DestinationPort: []string{"http"}},
		{DestinationPort: []string{"65535"}},
		{SourceFqdn: []string{"a?b"}},
		{SourceFqdn: []string{"a_b.*"}},
		{SourceLabel: []string{"k8s:app in (a"}},
		{SourceLabel: []string{"k8s:app in (a,b),tier"}},
		{SourceLabel: []string{"  "}},
		{SourceLabel: []string{"app, "}},
		{SourceLabel: []string{"!"}},
		{SourceLabel: []string{""}},
		{NodeName: []string{"a/b/c"}},
		{NodeName: []string{"/"}},
		{SourcePod: []string{""}},
		{SourcePod: []string{"/"}},
		{SourceService: []string{"ns/"}},
		{HttpStatusCode: []string{"600"}},
		{HttpStatusCode: []string{"20+"}},
		{HttpMethod: []string{"GET"}, EventType: []*flowpb.EventTypeFilter{{Type: 4}}},
		{HttpPath: []string{"("}},
		{Protocol: []string{"quic"}},
		{Protocol: []string{"HTTP"}},
		{SourceClusterName: []string{""}},
		{DnsQuery: []string{"["}},
		{Experimental: &flowpb.FlowFilter_Experimental{CelExpression: []string{"_flow.verdict"}}},
		{Experimental: &flowpb.FlowFilter_Experimental{CelExpression: []string{"_flow.nosuch == 1"}}},
	} {
		js, err := protojson.Marshal(ff)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "observe", "--input-file", file, "--all", "-o", "jsonpb", "--allowlist", string(js))
		cmd.Env = append(os.Environ(), "HUBBLE_CONFIG=/dev/null")
		hubbleErr := cmd.Run() != nil
		_, err = Build([]*flowpb.FlowFilter{ff}, nil)
		if (err != nil) != hubbleErr {
			t.Errorf("%s: Build error %v, hubble rejects: %v", js, err, hubbleErr)
		}
	}
}
