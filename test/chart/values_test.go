package chart

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestLint runs helm lint in strict mode, warnings failing it.
func TestLint(t *testing.T) {
	tl := tools(t)
	if _, err := Run(tl.Helm, "lint", "--strict", "--kube-version", tl.KubeVersion, ChartDir); err != nil {
		t.Fatal(err)
	}
}

// TestSchemaRejectsBadValues checks that values.schema.json stops a bad
// value before anything is rendered, with a message naming it.
func TestSchemaRejectsBadValues(t *testing.T) {
	tl := tools(t)
	for _, c := range []struct{ set, names string }{
		{"tls.mode=bogus", "/tls/mode"},
		{"tls.mode=secrets", "/tls/secrets/agent"},
		{"agent.port=70000", "/agent/port"},
		{"agent.portt=4244", "'portt' not allowed"},
		{"agent.metrics.seriesTTL=5 minutes", "/agent/metrics/seriesTTL"},
		{"agent.resources.limits.memory=1.5Gi", "/agent/resources/limits/memory"},
		{"image.digest=latest", "/image/digest"},
		{"image.pullPolicy=Sometimes", "/image/pullPolicy"},
		{"clusterName=My_Cluster", "/clusterName"},
		{"ui.enabled=yes", "/ui/enabled"},
		{"relay.service.type=Ingress", "/relay/service/type"},
	} {
		_, err := tl.Template(ChartDir, "--set", c.set)
		if err == nil || !strings.Contains(err.Error(), c.names) || !strings.Contains(err.Error(), "schema") {
			t.Errorf("--set %s: %v; want a schema error naming %s", c.set, err, c.names)
		}
	}
}

// TestValuesTable checks that the values table in the chart's README is
// the one values.yaml's comments make.
func TestValuesTable(t *testing.T) {
	tl := tools(t)
	if _, err := Run(tl.Valuesdoc, "--check", "--values", filepath.Join(ChartDir, "values.yaml"), "--readme", filepath.Join(ChartDir, "README.md")); err != nil {
		t.Fatal(err)
	}
}
