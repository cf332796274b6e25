package flowmetrics

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want Config
	}{
		{"", Config{}},
		{"flow", Config{Metrics: []MetricConfig{{Name: "flow"}}}},
		{"  flow   drop\ttcp ", Config{Metrics: []MetricConfig{{Name: "flow"}, {Name: "drop"}, {Name: "tcp"}}}},
		{"dns:query;ignoreAAAA drop:sourceContext=pod;destinationContext=namespace flow", Config{Metrics: []MetricConfig{
			{Name: "dns", ContextOptions: []ContextOption{{Name: "query"}, {Name: "ignoreAAAA"}}},
			{Name: "drop", ContextOptions: []ContextOption{
				{Name: "sourceContext", Values: []string{"pod"}}, {Name: "destinationContext", Values: []string{"namespace"}}}},
			{Name: "flow"},
		}}},
		{"flow:sourceContext=workload-name|reserved-identity;labelsContext=source_namespace,traffic_direction", Config{Metrics: []MetricConfig{
			{Name: "flow", ContextOptions: []ContextOption{
				{Name: "sourceContext", Values: []string{"workload-name", "reserved-identity"}},
				{Name: "labelsContext", Values: []string{"source_namespace", "traffic_direction"}}}},
		}}},
		// Empty options and values are skipped, as Cilium skips them.
		{"tcp: icmp:;; dns:sourceContext=pod||ip;", Config{Metrics: []MetricConfig{
			{Name: "tcp"}, {Name: "icmp"},
			{Name: "dns", ContextOptions: []ContextOption{{Name: "sourceContext", Values: []string{"pod", "ip"}}}},
		}}},
		{"flow:sourceContext=", Config{Metrics: []MetricConfig{
			{Name: "flow", ContextOptions: []ContextOption{{Name: "sourceContext", Values: []string{}}}}}}},
	} {
		got, err := ParseSpec(tc.spec)
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", tc.spec, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseSpec(%q) (-want +got):\n%s", tc.spec, diff)
		}
	}
}

func TestParseSpecErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{":query", `parse metric ":query": no handler name before the colon`},
		{"dns:=x", `parse metric "dns:=x": option "=x" has no name`},
	} {
		if _, err := ParseSpec(tc.spec); err == nil || err.Error() != tc.want {
			t.Errorf("ParseSpec(%q) = %v, want %q", tc.spec, err, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, spec := range []string{
		"",
		"flow drop tcp dns port-distribution icmp flows-to-world",
		"dns:query;ignoreAAAA drop:sourceContext=pod;destinationContext=namespace flow",
		"flow:sourceContext=identity|namespace|pod|pod-name|dns|ip|reserved-identity|workload|workload-name|app",
		"flow:sourceEgressContext=pod;sourceIngressContext=ip;destinationEgressContext=dns;destinationIngressContext=app",
		"tcp:labelsContext=source_ip,source_pod,source_namespace,source_workload,source_workload_kind,source_app," +
			"destination_ip,destination_pod,destination_namespace,destination_workload,destination_workload_kind,destination_app,traffic_direction",
		"flows-to-world:any-drop;port;syn-only;destinationContext=dns|ip",
		// Names of options and contexts are matched without case, as Cilium does.
		"dns:QUERY;ignoreaaaa;SourceContext=POD",
	} {
		cfg, err := ParseSpec(spec)
		if err != nil {
			t.Fatalf("ParseSpec(%q): %v", spec, err)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("Validate(%q): %v", spec, err)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"flows", `metric "flows": unknown handler (known: flow, drop, tcp, dns, port-distribution, icmp, flows-to-world, policy, http, httpV2)`},
		{"Policy", `metric "Policy": unknown handler`},
		{"http httpV2", "metric httpV2: conflicts with http, which counts the same series"},
		{"httpV2:exemplars=yes", `metric httpV2: option exemplars: want true or false, got "yes"`},
		{"httpV2:exemplars", `metric httpV2: option exemplars: want true or false, got ""`},
		{"flow drop flow", "metric flow: given twice"},
		{"Flow", `metric "Flow": unknown handler`},
		{"flow:query", `metric flow: option "query": unknown (known: sourceContext, sourceEgressContext, sourceIngressContext, destinationContext, ` +
			`destinationEgressContext, destinationIngressContext, labelsContext)`},
		{"dns:qeury", `metric dns: option "qeury": unknown (known: query, ignoreAAAA, sourceContext,`},
		{"dns:query=yes", `metric dns: option query: takes no value, got "yes"`},
		{"dns:query=", `metric dns: option query: takes no value, got ""`},
		{"flows-to-world:syn-only;port;syn-only", "metric flows-to-world: option syn-only: given twice"},
		{"drop:sourceContext=pod;SOURCECONTEXT=ip", "metric drop: option SOURCECONTEXT: given twice"},
		{"drop:sourceContext=podd", `metric drop: option sourceContext: unknown context "podd" (known: identity, namespace, pod, pod-name, dns, ip, ` +
			`reserved-identity, workload, workload-name, app)`},
		{"drop:destinationContext=pod|nope", `metric drop: option destinationContext: unknown context "nope"`},
		{"tcp:sourceContext", "metric tcp: option sourceContext: no context given (one or more of identity,"},
		{"tcp:destinationIngressContext=", "metric tcp: option destinationIngressContext: no context given"},
		{"icmp:labelsContext=source_ip,source_node", `metric icmp: option labelsContext: unknown label "source_node" (known: source_ip, source_pod,`},
		{"icmp:labelsContext", "metric icmp: option labelsContext: no label given"},
		{"flow:labelsContext=source_ip|destination_ip", `metric flow: option labelsContext: unknown label "source_ip|destination_ip"`},
	} {
		cfg, err := ParseSpec(tc.spec)
		if err != nil {
			t.Fatalf("ParseSpec(%q): %v", tc.spec, err)
		}
		if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Validate(%q) = %v, want an error starting %q", tc.spec, err, tc.want)
		}
	}
}

func TestLabelNames(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want map[string][]string
	}{
		{"flow drop tcp dns port-distribution icmp flows-to-world", map[string][]string{
			"hubble_flows_processed_total":    {"protocol", "type", "subtype", "verdict"},
			"hubble_drop_total":               {"reason", "protocol"},
			"hubble_tcp_flags_total":          {"flag", "family"},
			"hubble_dns_queries_total":        {"rcode", "qtypes", "ips_returned"},
			"hubble_dns_responses_total":      {"rcode", "qtypes", "ips_returned"},
			"hubble_dns_response_types_total": {"type", "qtypes"},
			"hubble_port_distribution_total":  {"protocol", "port"},
			"hubble_icmp_total":               {"family", "type"},
			"hubble_flows_to_world_total":     {"protocol", "verdict"},
		}},
		// Context labels: labelsContext's in Cilium's order, then source,
		// then destination; after the handler's own labels, except for drop
		// and dns, which put them first.
		{"flow:destinationContext=pod;labelsContext=traffic_direction,source_ip;sourceEgressContext=ip " +
			"drop:sourceContext=pod dns:query;destinationContext=ip flows-to-world:port;sourceContext=namespace", map[string][]string{
			"hubble_flows_processed_total":    {"protocol", "type", "subtype", "verdict", "source_ip", "traffic_direction", "source", "destination"},
			"hubble_drop_total":               {"source", "reason", "protocol"},
			"hubble_dns_queries_total":        {"destination", "rcode", "qtypes", "ips_returned", "query"},
			"hubble_dns_responses_total":      {"destination", "rcode", "qtypes", "ips_returned", "query"},
			"hubble_dns_response_types_total": {"destination", "type", "qtypes", "query"},
			"hubble_flows_to_world_total":     {"protocol", "verdict", "port", "source"},
		}},
	} {
		cfg, err := ParseSpec(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		hs, err := compile(cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, h := range hs {
			for _, s := range h.stores() {
				got[s.name] = s.labels
			}
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%q: label names (-want +got):\n%s", tc.spec, diff)
		}
	}
}
