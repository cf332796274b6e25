package fieldmask

import (
	"strings"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// cliDefaultMask is the mask hubble observe sends for compact, dict and
// table output (hubble/pkg/defaults.FieldMask in Cilium v1.20.2).
var cliDefaultMask = []string{
	"time", "verdict", "ethernet", "IP", "l4",
	"source.identity", "source.namespace", "source.pod_name",
	"destination.identity", "destination.namespace", "destination.pod_name",
	"Type", "node_name", "l7", "event_type", "source_service", "destination_service",
	"is_reply", "Summary", "ip_trace_id", "traffic_direction", "policy_match_type",
	"ingress_allowed_by", "ingress_denied_by", "egress_allowed_by", "egress_denied_by",
}

func sampleFlow() *flowpb.Flow {
	return &flowpb.Flow{
		Time:     timestamppb.Now(),
		Verdict:  flowpb.Verdict_FORWARDED,
		NodeName: "kind/worker",
		IP:       &flowpb.IP{Source: "10.0.0.1", Destination: "10.0.0.2", IpVersion: flowpb.IPVersion_IPv4},
		L4: &flowpb.Layer4{Protocol: &flowpb.Layer4_TCP{TCP: &flowpb.TCP{
			SourcePort: 1234, DestinationPort: 80, Flags: &flowpb.TCPFlags{SYN: true},
		}}},
		Source: &flowpb.Endpoint{
			Identity: 42, Namespace: "demo", PodName: "client", Labels: []string{"k8s:app=client"},
		},
		Destination:      &flowpb.Endpoint{Identity: 2},
		Type:             flowpb.FlowType_L3_L4,
		EventType:        &flowpb.CiliumEventType{Type: 4},
		IsReply:          wrapperspb.Bool(false),
		Summary:          "TCP Flags: SYN",
		TrafficDirection: flowpb.TrafficDirection_EGRESS,
		SourceNames:      []string{"client.example"},
	}
}

func TestCLIDefaultMaskValidates(t *testing.T) {
	fm, err := fieldmaskpb.New(&flowpb.Flow{}, cliDefaultMask...)
	if err != nil {
		t.Fatalf("the protobuf library rejects the CLI mask: %v", err)
	}
	m, err := FromProto(fm)
	if err != nil {
		t.Fatalf("FromProto(CLI default mask): %v", err)
	}
	if !m.Active() {
		t.Fatal("CLI default mask is inactive")
	}
}

func TestInvalidPathsNameTheField(t *testing.T) {
	for path, want := range map[string]string{
		"nonexistent":         `"nonexistent"`,
		"source.nope":         `"nope"`,
		"verdict.sub":         `"verdict"`,
		"source_names.x":      `"source_names"`,
		"":                    "empty",
		"source.":             `""`,
		"l4.TCP.flags.BOGUS":  `"BOGUS"`,
		"summary":             `"summary"`,
		"source..namespace":   `""`,
		"destination.labels.": "labels",
	} {
		_, err := New(path)
		if err == nil {
			t.Errorf("New(%q) succeeded", path)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New(%q) = %v, want mention of %s", path, err, want)
		}
	}
}

func TestNilAndEmptyMasksSelectEverything(t *testing.T) {
	f := sampleFlow()
	for _, fm := range []*fieldmaskpb.FieldMask{nil, {}} {
		m, err := FromProto(fm)
		if err != nil || m.Active() {
			t.Fatalf("FromProto(%v) = %v, %v", fm, m, err)
		}
		if got := m.Apply(f); got != f {
			t.Fatal("inactive mask did not return its input")
		}
	}
}

func TestApplySelectsOnlyMaskedFields(t *testing.T) {
	src := sampleFlow()
	before := proto.Clone(src)
	m, err := New("source.namespace", "source.pod_name", "l4.TCP.flags", "verdict", "is_reply", "destination.namespace")
	if err != nil {
		t.Fatal(err)
	}
	got := m.Apply(src)
	want := &flowpb.Flow{
		Verdict: flowpb.Verdict_FORWARDED,
		Source:  &flowpb.Endpoint{Namespace: "demo", PodName: "client"},
		// Destination is set in src, so it is kept even though the selected
		// sub-field is empty.
		Destination: &flowpb.Endpoint{},
		L4:          &flowpb.Layer4{Protocol: &flowpb.Layer4_TCP{TCP: &flowpb.TCP{Flags: &flowpb.TCPFlags{SYN: true}}}},
		IsReply:     wrapperspb.Bool(false),
	}
	if !proto.Equal(got, want) {
		t.Fatalf("Apply = %v\nwant %v", got, want)
	}
	if !proto.Equal(src, before) {
		t.Fatal("Apply modified its input")
	}
}

func TestApplySkipsInactiveOneofVariant(t *testing.T) {
	m, err := New("l4.UDP.source_port")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Apply(sampleFlow()); got.GetL4().GetProtocol() != nil {
		t.Fatalf("mask on the UDP variant of a TCP flow produced protocol %v", got.L4.Protocol)
	}
}

func TestWholeFieldWinsOverNarrowerPath(t *testing.T) {
	src := sampleFlow()
	for _, paths := range [][]string{{"source", "source.namespace"}, {"source.namespace", "source"}} {
		m, err := New(paths...)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Apply(src); !proto.Equal(got.Source, src.Source) {
			t.Fatalf("%v: source = %v, want whole %v", paths, got.Source, src.Source)
		}
	}
}

func TestCLIDefaultMaskKeepsCompactFields(t *testing.T) {
	m, err := New(cliDefaultMask...)
	if err != nil {
		t.Fatal(err)
	}
	src := sampleFlow()
	got := m.Apply(src)
	if got.Summary != src.Summary || got.NodeName != src.NodeName || !proto.Equal(got.Time, src.Time) ||
		!proto.Equal(got.L4, src.L4) || got.Source.GetPodName() != "client" || got.Source.GetLabels() != nil ||
		got.SourceNames != nil {
		t.Fatalf("Apply(CLI mask) = %v", got)
	}
}

func BenchmarkApplyCLIDefaultMask(b *testing.B) {
	m, err := New(cliDefaultMask...)
	if err != nil {
		b.Fatal(err)
	}
	src := sampleFlow()
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Apply(src)
	}
}

func BenchmarkApplyNarrowMask(b *testing.B) {
	m, err := New("time", "source.namespace", "destination.namespace", "verdict")
	if err != nil {
		b.Fatal(err)
	}
	src := sampleFlow()
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Apply(src)
	}
}
