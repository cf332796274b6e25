package filters

import (
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

// quickly bounds Build plus evaluating a few events. Without the limits the
// inputs below took from seconds (Build) to hours (evaluation); the bound is
// loose enough for -race on a loaded machine.
const quickly = 2 * time.Second

// nestedComprehension is 200^4 comprehension steps: hours of evaluation per
// flow without a cost limit.
func nestedComprehension() string {
	l := "[" + strings.Repeat("1,", 199) + "1]"
	return l + ".all(a, " + l + ".all(b, " + l + ".all(c, " + l + ".all(d, _flow.verdict == Verdict.DROPPED || true))))"
}

// buildAndRun builds ff as a white- and blacklist, evaluates it on a few
// events and fails if that is not quick.
func buildAndRun(t *testing.T, ffs []*flowpb.FlowFilter) (matched []bool, err error) {
	t.Helper()
	start := time.Now()
	f, err := Build(ffs, nil)
	if err == nil {
		n := testNode()
		for _, d := range []ev{
			{proto: record.ProtoTCP, tcp: record.TCPSyn, dport: 80},
			{kind: record.KindDrop, verdict: flowpb.Verdict_DROPPED},
			{kind: record.KindL7, proto: record.ProtoUDP, dport: 53, dstNames: []string{"kube-dns.kube-system.svc.cluster.local"}},
		} {
			matched = append(matched, f(d.build(n)))
		}
	}
	if d := time.Since(start); d > quickly {
		t.Fatalf("Build and evaluation took %v, want at most %v", d, quickly)
	}
	return matched, err
}

func TestCELEvaluationIsBounded(t *testing.T) {
	matched, err := buildAndRun(t, []*flowpb.FlowFilter{{Experimental: &flowpb.FlowFilter_Experimental{
		CelExpression: []string{nestedComprehension()},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range matched {
		if m {
			t.Errorf("event %d matched an expression exceeding the cost limit", i)
		}
	}
}

func TestCELWithinCostLimitMatches(t *testing.T) {
	l := "[" + strings.Repeat("1,", 9) + "1]"
	ff := &flowpb.FlowFilter{Experimental: &flowpb.FlowFilter_Experimental{
		CelExpression: []string{l + ".all(a, " + l + ".all(b, _flow.verdict == Verdict.DROPPED))"},
	}}
	matched, err := buildAndRun(t, []*flowpb.FlowFilter{ff})
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{false, true, false}; !slices.Equal(matched, want) {
		t.Errorf("matched %v, want %v", matched, want)
	}
}

func mustParseRegexp(t *testing.T, expr string) *syntax.Regexp {
	t.Helper()
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	return re
}

func TestRequestLimits(t *testing.T) {
	values := func(n int, v string) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = v
		}
		return s
	}
	bigRegexp := strings.Repeat("(?:[a-z]*a){999}", 40)
	for _, tc := range []struct {
		name    string
		filters []*flowpb.FlowFilter
		wantErr string // prefix
	}{
		{"filters", make([]*flowpb.FlowFilter, MaxFilters+1), "whitelist: 101 filters, at most 100"},
		{"values", []*flowpb.FlowFilter{{DestinationFqdn: values(MaxValues+1, "*a*")}}, "whitelist[0].destination_fqdn: 1001 values, at most 1000"},
		{"nested values", []*flowpb.FlowFilter{{Experimental: &flowpb.FlowFilter_Experimental{CelExpression: values(MaxValues+1, "true")}}},
			"whitelist[0].experimental.cel_expression: 1001 values, at most 1000"},
		{"values at the limit", []*flowpb.FlowFilter{{DestinationPort: values(MaxValues, "53")}}, ""},
		{"regexp program", []*flowpb.FlowFilter{{DnsQuery: []string{bigRegexp}}},
			"whitelist[0].dns_query: invalid regular expression " + quoted(bigRegexp) + ": the request's regular expressions compile to more than 32768 instructions"},
		{"fqdn program", []*flowpb.FlowFilter{{SourceFqdn: values(MaxValues, strings.Repeat("a", 32))}},
			"whitelist[0].source_fqdn: the request's regular expressions exceed 32768 bytes"},
		{"regexp budget spans filters", []*flowpb.FlowFilter{{DnsQuery: values(MaxValues, "abcdefghijklmnopq")}, {DnsQuery: values(MaxValues, "abcdefghijklmnopq")}},
			`whitelist[1].dns_query: invalid regular expression "abcdefghijklmnopq": the request's regular expressions `},
		{"selector bytes", []*flowpb.FlowFilter{{SourceLabel: []string{"app in (" + strings.Repeat("a,", MaxSelectorBytes/2) + "b)"}}},
			"whitelist[0].source_label: the request's label selectors exceed 65536 bytes"},
		{"selector budget spans fields", []*flowpb.FlowFilter{{SourceLabel: values(MaxValues, strings.Repeat("a", 40)), NodeLabels: values(MaxValues, strings.Repeat("b", 40))}},
			"whitelist[0].node_labels: the request's label selectors exceed 65536 bytes"},
		{"cel expressions", []*flowpb.FlowFilter{{Experimental: &flowpb.FlowFilter_Experimental{CelExpression: values(MaxCELExpressions+1, "true")}}},
			"whitelist[0].experimental.cel_expression: the request has more than 8 CEL expressions"},
		{"cel size", []*flowpb.FlowFilter{{Experimental: &flowpb.FlowFilter_Experimental{CelExpression: []string{strings.Repeat("1+", MaxCELExpressionSize) + "1 > 0"}}}},
			"whitelist[0].experimental.cel_expression: compile "},
		{"cel computed pattern", []*flowpb.FlowFilter{{Experimental: &flowpb.FlowFilter_Experimental{CelExpression: []string{`_flow.node_name.matches(_flow.node_name + "x")`}}}},
			`whitelist[0].experimental.cel_expression: "_flow.node_name.matches(_flow.node_name + \"x\")": the pattern of matches() must be a string literal`},
		{"cel big pattern", []*flowpb.FlowFilter{{Experimental: &flowpb.FlowFilter_Experimental{CelExpression: []string{`matches(_flow.node_name, "` + strings.Repeat("(?:[a-z]*a){999}", 200) + `")`}}}},
			"whitelist[0].experimental.cel_expression: "},
		{"cel literal pattern", []*flowpb.FlowFilter{{Experimental: &flowpb.FlowFilter_Experimental{CelExpression: []string{`_flow.node_name.matches("^prod/")`}}}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := buildAndRun(t, tc.filters)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Build: %v", err)
			case tc.wantErr == "":
			case err == nil:
				t.Fatalf("Build succeeded, want error %q", tc.wantErr)
			case !strings.HasPrefix(err.Error(), tc.wantErr):
				t.Fatalf("Build error\n got %.300q\nwant prefix %.300q", err.Error(), tc.wantErr)
			}
		})
	}
}

func TestProgSizeBoundCoversProgram(t *testing.T) {
	for _, expr := range []string{`a`, `(a|bc)*x{3,5}`, `(?:.*a)?`, `\A(?:[-.0-9a-z]*\.foo|bar)\z`, `(x+){2,}y{0,3}(?i)abc`, `[a-z]{20}`} {
		b := newBudget()
		if _, err := b.compileRegexp(expr); err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		used := MaxRegexpInsts - b.regexpInsts
		re := mustParseRegexp(t, expr)
		if bound := progFixedInsts + progSizeBound(re, MaxRegexpInsts); bound < used {
			t.Errorf("%q: bound %d below program size %d", expr, bound, used)
		}
	}
}

func TestErrorsQuoteBadValuesBriefly(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	_, err := Build([]*flowpb.FlowFilter{{SourceIp: []string{huge}}}, nil)
	if err == nil {
		t.Fatal("a megabyte of x is not an IP")
	}
	if len(err.Error()) > 300 || !strings.Contains(err.Error(), "(1048576 bytes)") {
		t.Fatalf("error is %d bytes: %.200s", len(err.Error()), err)
	}
}
