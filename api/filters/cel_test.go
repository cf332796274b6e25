package filters

import (
	"log/slog"
	"strings"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

func TestCEL(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	b := newBudget()
	p, err := compileCEL([]string{
		`_flow.verdict == Verdict.DROPPED`,
		`_flow.source.namespace == "demo" && _flow.l4.TCP.destination_port == 443u`,
		`has(_flow.l7.http) && _flow.l7.http.code >= 500u`,
	}, &b, log)
	if err != nil {
		t.Fatal(err)
	}
	tcp443 := &flowpb.Layer4{Protocol: &flowpb.Layer4_TCP{TCP: &flowpb.TCP{DestinationPort: 443}}}
	checkFlows(t, p, []flowCase{
		{"dropped", &flowpb.Flow{Verdict: flowpb.Verdict_DROPPED}, true},
		{"forwarded", &flowpb.Flow{Verdict: flowpb.Verdict_FORWARDED}, false},
		{"namespace and port", &flowpb.Flow{Source: &flowpb.Endpoint{Namespace: "demo"}, L4: tcp443}, true},
		{"namespace only", &flowpb.Flow{Source: &flowpb.Endpoint{Namespace: "demo"}}, false},
		{"http 503", httpFlow(&flowpb.HTTP{Code: 503}), true},
		{"nil", nil, false},
	})

	for expr, want := range map[string]string{
		`_flow.verdict`:    `experimental.cel_expression: "_flow.verdict" has type`,
		`_flow.nosuch`:     `experimental.cel_expression: compile "_flow.nosuch"`,
		`_flow.verdict ==`: `experimental.cel_expression: compile "_flow.verdict =="`,
	} {
		_, err := Build([]*flowpb.FlowFilter{{Experimental: &flowpb.FlowFilter_Experimental{CelExpression: []string{expr}}}}, nil, WithLogger(log))
		if err == nil || !strings.HasPrefix(err.Error(), "whitelist[0]."+want) {
			t.Errorf("%q: got error %v, want prefix %q", expr, err, want)
		}
	}
}

func TestCELRuntimeErrorDoesNotMatch(t *testing.T) {
	b := newBudget()
	p, err := compileCEL([]string{`_flow.source.labels[3] == "x"`, `_flow.uuid == "u"`}, &b, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	checkFlows(t, p, []flowCase{
		{"index out of range, then a match", &flowpb.Flow{Uuid: "u"}, true},
		{"index out of range", &flowpb.Flow{}, false},
	})
}
