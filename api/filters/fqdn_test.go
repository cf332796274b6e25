package filters

import (
	"regexp"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
)

func TestFQDNFilter(t *testing.T) {
	f := mustBuild(t, &flowpb.FlowFilter{DestinationFqdn: []string{"*.Example.COM.", "api.internal"}})
	checkEvents(t, f, []eventCase{
		{"wildcard", ev{dstNames: []string{"www.example.com"}}, true},
		{"wildcard spans dots", ev{dstNames: []string{"a.b.example.com"}}, true},
		{"anchored", ev{dstNames: []string{"www.example.com.evil"}}, false},
		{"exact", ev{dstNames: []string{"other", "api.internal"}}, true},
		{"dot is literal", ev{dstNames: []string{"apixinternal"}}, false},
		{"no names", ev{}, false},
		{"source ignored", ev{srcNames: []string{"api.internal"}}, false},
	})
	f = mustBuild(t, &flowpb.FlowFilter{SourceFqdn: []string{"db"}})
	checkEvents(t, f, []eventCase{{"source", ev{srcNames: []string{"db"}}, true}})
}

func TestFQDNFilterErrors(t *testing.T) {
	wantErr(t, &flowpb.FlowFilter{SourceFqdn: []string{" "}}, `whitelist[0].source_fqdn: empty pattern`)
	wantErr(t, &flowpb.FlowFilter{DestinationFqdn: []string{"a.."}}, `whitelist[0].destination_fqdn: pattern "a.." has more than one trailing dot`)
	wantErr(t, &flowpb.FlowFilter{DestinationFqdn: []string{"a?b"}}, `whitelist[0].destination_fqdn: pattern "a?b": invalid character '?'`)
}

func TestDNSQuery(t *testing.T) {
	b := newBudget()
	res, err := b.compileRegexps("dns_query", []string{`^api\.`, `cluster\.local\.$`})
	if err != nil {
		t.Fatal(err)
	}
	dns := func(q string) *flowpb.Flow {
		return &flowpb.Flow{L7: &flowpb.Layer7{Record: &flowpb.Layer7_Dns{Dns: &flowpb.DNS{Query: q}}}}
	}
	checkFlows(t, dnsQueryMatches(res), []flowCase{
		{"prefix", dns("api.example.com."), true},
		{"suffix", dns("x.svc.cluster.local."), true},
		{"neither", dns("www.example.com."), false},
		{"not DNS", &flowpb.Flow{L7: &flowpb.Layer7{}}, false},
		{"nil", nil, false},
	})
	// Non-L7 events fail without building their flow.
	checkEvents(t, mustBuild(t, &flowpb.FlowFilter{DnsQuery: []string{"."}}), []eventCase{{"trace", ev{}, false}})
	wantErr(t, &flowpb.FlowFilter{DnsQuery: []string{"("}}, "whitelist[0].dns_query: invalid regular expression \"(\": "+regexpErr("("))
}

func regexpErr(expr string) string {
	_, err := regexp.Compile(expr)
	return err.Error()
}

func TestNodeNameFilter(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		node     string
		cluster  string
		want     bool
	}{
		{[]string{"node-1"}, "node-1", "prod", true},
		{[]string{"node-*"}, "node-1", "prod", true},
		{[]string{"prod/node-1"}, "node-1", "prod", true},
		{[]string{"dev/node-1"}, "node-1", "prod", false},
		{[]string{"prod/"}, "node-7", "prod", true},
		{[]string{"default/node-1"}, "node-1", "", true},
		{[]string{"other"}, "node-1", "prod", false},
		{[]string{"node-1"}, "", "prod", false},
	} {
		f := mustBuild(t, &flowpb.FlowFilter{NodeName: tc.patterns})
		n := flowview.NewNode(tc.node, tc.cluster, "", nil, intern.NewTables())
		e := ev{}.build(n)
		for range 2 { // the second call answers from the cache
			if got := f(e); got != tc.want {
				t.Errorf("%v on %q in %q: got %v, want %v", tc.patterns, tc.node, tc.cluster, got, tc.want)
			}
		}
	}
	wantErr(t, &flowpb.FlowFilter{NodeName: []string{"a/b/c"}}, `whitelist[0].node_name: pattern "a/b/c" has more than one slash`)
	wantErr(t, &flowpb.FlowFilter{NodeName: []string{""}}, `whitelist[0].node_name: empty pattern`)
}
