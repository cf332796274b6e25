package filters

import (
	"sync"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

func TestTranslateSelector(t *testing.T) {
	for in, want := range map[string]string{
		"k8s:app=web":                        "k8s.app=web",
		"app":                                "any.app",
		"!k8s:app":                           "!k8s.app",
		"k8s:app in (a, b), env!=prod":       "k8s.app in (a, b), any.env!=prod",
		"reserved:host":                      "reserved.host",
		"k8s:io.kubernetes.pod.namespace=x":  "k8s.io.kubernetes.pod.namespace=x",
		"app.kubernetes.io/name notin (x,y)": "any.app.kubernetes.io/name notin (x,y)",
		"a=b:c":                              "any.a=b:c",
		"":                                   "",
		"  ":                                 "  any.",
		"a, ":                                "any.a, any.",
	} {
		if got := translateSelector(in); got != want {
			t.Errorf("translateSelector(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLookupLabel(t *testing.T) {
	labels := []string{"k8s:app=web", "container:app=other", "reserved:host", "cidr:10.0.0.0/24", "cidr:fd00--0/120", "team=a"}
	for _, tc := range []struct {
		key, value string
		found      bool
	}{
		{"k8s.app", "web", true},
		{"container.app", "other", true},
		{"any.app", "web", true},
		{"k8s.team", "", false},
		{"any.team", "a", true},
		{"unspec.team", "a", true},
		{"reserved.host", "", true},
		{"reserved.world", "", false},
		{"cidr.10.0.0.0/8", "", true},
		{"cidr.10.0.0.0/25", "", false},
		{"cidr.fd00--0/64", "", true},
	} {
		v, ok := lookupLabel(labels, tc.key)
		if v != tc.value || ok != tc.found {
			t.Errorf("lookupLabel(%q) = %q, %v; want %q, %v", tc.key, v, ok, tc.value, tc.found)
		}
	}
}

func TestParseLabel(t *testing.T) {
	for in, want := range map[string]label{
		"k8s:app=web":     {"k8s", "app", "web"},
		"$host":           {sourceReserved, "host", ""},
		"$=x":             {sourceReserved, "x", ""},
		"app=a:b":         {"app=a", "b", ""},
		"plain":           {sourceUnspec, "plain", ""},
		"":                {sourceUnspec, "", ""},
		"k8s:a=b=c":       {"k8s", "a", "b=c"},
		"reserved:world=": {sourceReserved, "world", ""},
	} {
		if got := parseLabel(in, ':'); got != want {
			t.Errorf("parseLabel(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestLabelFilters(t *testing.T) {
	ep := func(labels ...string) *flowpb.Endpoint { return &flowpb.Endpoint{Labels: labels} }
	f := mustBuild(t, &flowpb.FlowFilter{SourceLabel: []string{"k8s:app=web", "reserved:host"}})
	checkEvents(t, f, []eventCase{
		{"k8s label", ev{srcEP: ep("k8s:app=web", "k8s:io.kubernetes.pod.namespace=demo")}, true},
		{"source matters", ev{srcEP: ep("container:app=web")}, false},
		{"second selector", ev{srcEP: ep("reserved:host")}, true},
		{"value differs", ev{srcEP: ep("k8s:app=db")}, false},
		{"no labels", ev{}, false},
		{"destination ignored", ev{dstEP: ep("k8s:app=web")}, false},
	})
	f = mustBuild(t, &flowpb.FlowFilter{DestinationLabel: []string{"app in (web, api), !k8s:canary"}})
	checkEvents(t, f, []eventCase{
		{"any source", ev{dstEP: ep("container:app=api")}, true},
		{"negation", ev{dstEP: ep("k8s:app=api", "k8s:canary")}, false},
		{"not in set", ev{dstEP: ep("k8s:app=db")}, false},
	})
	f = mustBuild(t, &flowpb.FlowFilter{DestinationLabel: []string{"k8s:app.kubernetes.io/name=x"}})
	checkEvents(t, f, []eventCase{{"qualified key", ev{dstEP: ep("k8s:app.kubernetes.io/name=x")}, true}})

	f = mustBuild(t, &flowpb.FlowFilter{NodeLabels: []string{"kubernetes.io/arch=amd64"}})
	checkEvents(t, f, []eventCase{{"node label", ev{}, true}})
	f = mustBuild(t, &flowpb.FlowFilter{NodeLabels: []string{"kubernetes.io/arch=arm64"}})
	checkEvents(t, f, []eventCase{{"node label differs", ev{}, false}})

	_, err := Build([]*flowpb.FlowFilter{{SourceLabel: []string{"k8s:app in (a"}}}, nil)
	if err == nil {
		t.Fatal("invalid selector accepted")
	}
	const prefix = `whitelist[0].source_label: invalid label selector "k8s:app in (a"`
	if got := err.Error(); len(got) < len(prefix) || got[:len(prefix)] != prefix {
		t.Fatalf("error %q does not start with %q", got, prefix)
	}
}

// TestNodeLabelsRelabel relabels the node while filters run: an event
// matches the labels the node had when its record was written.
func TestNodeLabelsRelabel(t *testing.T) {
	f := mustBuild(t, &flowpb.FlowFilter{NodeLabels: []string{"zone=a"}})
	n := testNode()
	old := ev{}.build(n)
	if f(old) {
		t.Fatal("an unlabelled zone matches")
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 1000 {
			n.SetLabels([]string{"zone=" + string(rune('a'+i%2))})
		}
		n.SetLabels([]string{"zone=a", "kubernetes.io/arch=amd64"})
	})
	for range 1000 {
		f(old)
	}
	wg.Wait()
	recent := ev{}.build(n)
	recent.Rec.Time = time.Now().Add(time.Second).UnixNano()
	if !f(recent) {
		t.Fatal("the node's new labels do not match")
	}
	if f(old) {
		t.Fatal("an event from before the relabelling matches the new labels")
	}
	n.SetLabels(nil)
	recent.Rec.Time = time.Now().Add(time.Second).UnixNano()
	if f(recent) {
		t.Fatal("removed labels still match")
	}
}
