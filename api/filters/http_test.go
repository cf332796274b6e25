package filters

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

func httpFlow(h *flowpb.HTTP) *flowpb.Flow {
	return &flowpb.Flow{L7: &flowpb.Layer7{Record: &flowpb.Layer7_Http{Http: h}}}
}

func TestHTTPStatusCode(t *testing.T) {
	p, err := httpStatusCodeIn([]string{"404", "5+", "20+"})
	if err != nil {
		t.Fatal(err)
	}
	checkFlows(t, p, []flowCase{
		{"exact", httpFlow(&flowpb.HTTP{Code: 404}), true},
		{"other 4xx", httpFlow(&flowpb.HTTP{Code: 403}), false},
		{"5xx", httpFlow(&flowpb.HTTP{Code: 503}), true},
		{"20x", httpFlow(&flowpb.HTTP{Code: 204}), true},
		{"21x", httpFlow(&flowpb.HTTP{Code: 210}), false},
		{"request", httpFlow(&flowpb.HTTP{Method: "GET"}), false},
		{"four digits", httpFlow(&flowpb.HTTP{Code: 5000}), true},
		{"not http", &flowpb.Flow{}, false},
	})
	p, _ = httpStatusCodeIn([]string{"0+"})
	if p != nil {
		t.Fatal("0+ accepted")
	}
	wantErr(t, &flowpb.FlowFilter{HttpStatusCode: []string{"600"}},
		`whitelist[0].http_status_code: invalid status code "600": want a code (404) or a prefix (4+, 40+)`)
	wantErr(t, &flowpb.FlowFilter{HttpStatusCode: []string{"200"}, EventType: []*flowpb.EventTypeFilter{{Type: 4}}},
		`whitelist[0].http_status_code: filtering on HTTP fields requires the event_type filter to match L7 events (type 129)`)
	mustBuild(t, &flowpb.FlowFilter{HttpStatusCode: []string{"200"}, EventType: []*flowpb.EventTypeFilter{{Type: 4}, {Type: 129}}})
}

func TestHTTPMethodURLPathHeader(t *testing.T) {
	checkFlows(t, httpMethodIn([]string{"get", "POST"}), []flowCase{
		{"case-insensitive", httpFlow(&flowpb.HTTP{Method: "GET"}), true},
		{"post", httpFlow(&flowpb.HTTP{Method: "post"}), true},
		{"put", httpFlow(&flowpb.HTTP{Method: "PUT"}), false},
		{"none", httpFlow(&flowpb.HTTP{}), false},
	})
	b := newBudget()
	p, err := httpPathMatches(&b, []string{`^/api/v[0-9]+/`})
	if err != nil {
		t.Fatal(err)
	}
	checkFlows(t, p, []flowCase{
		{"path of full URL", httpFlow(&flowpb.HTTP{Url: "http://x.example/api/v1/users?q=1"}), true},
		{"relative", httpFlow(&flowpb.HTTP{Url: "/api/v2/"}), true},
		{"other", httpFlow(&flowpb.HTTP{Url: "http://x.example/web"}), false},
		{"unparsable", httpFlow(&flowpb.HTTP{Url: "::"}), false},
		{"empty", httpFlow(&flowpb.HTTP{}), false},
	})
	u, err := httpURLMatches(&b, []string{`example\.com`})
	if err != nil {
		t.Fatal(err)
	}
	checkFlows(t, u, []flowCase{
		{"match", httpFlow(&flowpb.HTTP{Url: "https://example.com/x"}), true},
		{"no match", httpFlow(&flowpb.HTTP{Url: "https://example.org/"}), false},
	})
	h := httpHeaderIn([]*flowpb.HTTPHeader{{Key: "x-user", Value: "alice"}})
	checkFlows(t, h, []flowCase{
		{"match", httpFlow(&flowpb.HTTP{Headers: []*flowpb.HTTPHeader{{Key: "a", Value: "b"}, {Key: "x-user", Value: "alice"}}}), true},
		{"value differs", httpFlow(&flowpb.HTTP{Headers: []*flowpb.HTTPHeader{{Key: "x-user", Value: "bob"}}}), false},
		{"none", httpFlow(&flowpb.HTTP{}), false},
	})
	wantErr(t, &flowpb.FlowFilter{HttpPath: []string{"["}}, "whitelist[0].http_path: invalid regular expression \"[\": "+regexpErr("["))
	wantErr(t, &flowpb.FlowFilter{HttpUrl: []string{"a", "("}}, "whitelist[0].http_url: invalid regular expression \"(\": "+regexpErr("("))
	wantErr(t, &flowpb.FlowFilter{HttpHeader: []*flowpb.HTTPHeader{{Key: "a"}}, EventType: []*flowpb.EventTypeFilter{{Type: 1}}},
		`whitelist[0].http_header: filtering on HTTP fields requires the event_type filter to match L7 events (type 129)`)
	// HTTP filters fail on non-L7 events without building a flow.
	checkEvents(t, mustBuild(t, &flowpb.FlowFilter{HttpMethod: []string{"GET"}}), []eventCase{{"trace", ev{}, false}})
}
