package flowmetrics

import (
	"strings"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

// ciliumConfig is a file as Cilium's dynamic metrics config is written
// (the shape of its testdata), every field of it used.
const ciliumConfig = `
metrics:
- name: "drop"
  contextOptions:
  - name: "labelsContext"
    values: ["source_namespace", "source_pod", "destination_pod"]
  includeFilters:
  - source_pod: ["allow/src_pod"]
  - destination_pod: ["allow/dst_pod"]
  excludeFilters: []
- name: "flow"
  contextOptions:
  - name: "destinationContext"
    values: ["dns", "ip"]
- name: dns
  contextOptions:
  - name: query
  - name: ignoreAAAA
  excludeFilters:
  - {sourcePod: [kube-system/], verdict: [DROPPED]}
`

func TestParseConfig(t *testing.T) {
	got, err := ParseConfig([]byte(ciliumConfig))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Metrics: []MetricConfig{
		{Name: "drop",
			ContextOptions: []ContextOption{{Name: "labelsContext", Values: []string{"source_namespace", "source_pod", "destination_pod"}}},
			IncludeFilters: []*flowpb.FlowFilter{{SourcePod: []string{"allow/src_pod"}}, {DestinationPod: []string{"allow/dst_pod"}}}},
		{Name: "flow", ContextOptions: []ContextOption{{Name: "destinationContext", Values: []string{"dns", "ip"}}}},
		{Name: "dns", ContextOptions: []ContextOption{{Name: "query"}, {Name: "ignoreAAAA"}},
			ExcludeFilters: []*flowpb.FlowFilter{{SourcePod: []string{"kube-system/"}, Verdict: []flowpb.Verdict{flowpb.Verdict_DROPPED}}}},
	}}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Fatalf("ParseConfig (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for _, empty := range []string{"", "metrics:", "metrics: []"} {
		if cfg, err := ParseConfig([]byte(empty)); err != nil || len(cfg.Metrics) != 0 {
			t.Errorf("ParseConfig(%q) = %v, %v; want no metrics", empty, cfg, err)
		}
	}
}

// TestParseConfigErrorsNameTheField: a bad file is refused with an error
// that says where, from the YAML up to the names Validate checks.
func TestParseConfigErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"not yaml", "metrics: [", "parse metrics config: yaml: line 1: did not find expected node content"},
		{"repeated key", "metrics: []\nmetrics: []", `parse metrics config: yaml: unmarshal errors:
  line 2: key "metrics" already set in map`},
		{"unknown top-level key", "metric: [{name: flow}]", `parse metrics config: json: unknown field "metric"`},
		{"metrics not a list", "metrics: {name: flow}", "parse metrics config: json: cannot unmarshal object"},
		{"unknown metric key", "metrics: [{name: flow, contextOption: []}]", `parse metrics config: metrics[0] (flow): json: unknown field "contextOption"`},
		{"no name", "metrics: [{name: flow}, {contextOptions: []}]", "parse metrics config: metrics[1]: name: required"},
		{"unknown option key", "metrics: [{name: drop, contextOptions: [{name: sourceContext, value: [pod]}]}]",
			`parse metrics config: metrics[0] (drop): contextOptions[0] (sourceContext): json: unknown field "value"`},
		{"values not a list", "metrics: [{name: drop, contextOptions: [{name: sourceContext, values: pod}]}]",
			"parse metrics config: metrics[0] (drop): contextOptions[0] (sourceContext): json: cannot unmarshal string"},
		{"option without name", "metrics: [{name: drop, contextOptions: [{values: [pod]}]}]", "parse metrics config: metrics[0] (drop): contextOptions[0]: name: required"},
		{"unknown filter field", "metrics: [{name: flow, includeFilters: [{source_pod: [a/]}, {source_pods: [b/]}]}]",
			`parse metrics config: metrics[0] (flow): includeFilters[1]: proto:`},
		{"bad filter enum", "metrics: [{name: flow, excludeFilters: [{verdict: [DENIED]}]}]",
			`parse metrics config: metrics[0] (flow): excludeFilters[0]: proto:`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.yaml))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to start %q", err, tc.want)
			}
		})
	}
}

// TestConfigFileValidateErrors: what parses but names a handler, option,
// label or filter Fovea does not have is refused by Validate, naming it.
func TestConfigFileValidateErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown handler", "metrics: [{name: flow}, {name: kafka}]", `metric "kafka": unknown handler`},
		{"http and httpV2", "metrics: [{name: http}, {name: httpV2}]", "metric httpV2: conflicts with http"},
		{"twice", "metrics: [{name: flow}, {name: flow}]", "metric flow: given twice"},
		{"unknown option", "metrics: [{name: dns, contextOptions: [{name: queries}]}]", `metric dns: option "queries": unknown`},
		{"unknown context", "metrics: [{name: drop, contextOptions: [{name: sourceContext, values: [pods]}]}]",
			`metric drop: option sourceContext: unknown context "pods"`},
		{"unknown label", "metrics: [{name: flow, contextOptions: [{name: labelsContext, values: [source_ip, pod]}]}]",
			`metric flow: option labelsContext: unknown label "pod"`},
		{"flag with a value", "metrics: [{name: dns, contextOptions: [{name: query, values: [all]}]}]", `metric dns: option query: takes no value, got "all"`},
		{"bad filter", "metrics: [{name: flow, includeFilters: [{source_ip: [10.0.0.300]}]}]", "metric flow: build filters: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(tc.yaml))
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want an error starting %q", err, tc.want)
			}
		})
	}
}
