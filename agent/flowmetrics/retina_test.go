package flowmetrics

import (
	"strings"
	"testing"
	"time"

	"github.com/foveanet/fovea/model/flowview"
)

// newRetinaMetrics returns metrics counting Retina's flow series as c says.
func newRetinaMetrics(t testing.TB, c RetinaConfig, clock *time.Time) (*Metrics, *flowview.Node) {
	t.Helper()
	n := testNode(t)
	m, err := New(Config{Retina: c}, n, WithClock(func() time.Time { return *clock }))
	if err != nil {
		t.Fatal(err)
	}
	return m, n
}

// TestRetinaBasicGolden: the node's DNS queries and responses, by Retina's
// labels; drops and records without DNS details are not counted.
func TestRetinaBasicGolden(t *testing.T) {
	now := time.Unix(1000, 0)
	m, n := newRetinaMetrics(t, RetinaConfig{Mode: RetinaBasic}, &now)
	feed(m, n, sampleFlows...)
	golden(t, "retina-basic.golden", scrape(t, m.RetinaCollector()))
	// Hubble's collector shows none of them.
	if got := scrape(t, m.FlowCollector()); strings.Contains(got, "networkobservability_") {
		t.Errorf("Hubble's collector shows Retina's series:\n%s", got)
	}
}

func TestParseRetinaConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte("retina:\n  mode: advanced\n  contextMode: local\n  namespaces: {include: [shop], exclude: [kube-system]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := RetinaConfig{Mode: RetinaAdvanced, ContextMode: ContextLocal,
		Namespaces: NamespaceSelector{Include: []string{"shop"}, Exclude: []string{"kube-system"}}}
	if !cfg.Retina.equal(want) {
		t.Errorf("parsed %+v, want %+v", cfg.Retina, want)
	}
	for data, wantErr := range map[string]string{
		"retina: {mode: fancy}":                             `retina: mode "fancy" is none of basic, advanced`,
		"retina: {mode: advanced, contextMode: far}":        `retina: contextMode "far" is none of remote, local`,
		"retina: {mode: basic, namespaces: {include: [a]}}": `retina: contextMode and namespaces select pods for the advanced mode, not "basic"`,
		"retina: {mode: basic, pods: [a]}":                  `parse metrics config: retina: json: unknown field "pods"`,
	} {
		cfg, err := ParseConfig([]byte(data))
		if err == nil {
			err = cfg.Validate()
		}
		if err == nil || err.Error() != wantErr {
			t.Errorf("%s: error %v, want %s", data, err, wantErr)
		}
	}
}

// TestRetinaApplyKeepsSeries: applying the same Retina config keeps its
// series; switching it off takes them out of the next scrape.
func TestRetinaApplyKeepsSeries(t *testing.T) {
	now := time.Unix(1000, 0)
	m, n := newRetinaMetrics(t, RetinaConfig{Mode: RetinaBasic}, &now)
	feed(m, n, sampleFlows...)
	before := scrape(t, m.RetinaCollector())
	if err := m.Apply(Config{Retina: RetinaConfig{Mode: RetinaBasic}, Metrics: []MetricConfig{{Name: "flow"}}}); err != nil {
		t.Fatal(err)
	}
	if after := scrape(t, m.RetinaCollector()); after != before {
		t.Errorf("series changed by applying the same config:\n%s\nwant\n%s", after, before)
	}
	if err := m.Apply(Config{}); err != nil {
		t.Fatal(err)
	}
	if after := scrape(t, m.RetinaCollector()); after != "" {
		t.Errorf("series left after switching Retina off:\n%s", after)
	}
}
