//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"testing"
)

// hubbleDashboard is the Grafana dashboard of the Hubble flow metrics the
// Helm chart ships.
const hubbleDashboard = "../../helm/fovea/dashboards/hubble-flows.json"

// dashboardPanel is what the tests read of a Grafana panel; a row holds
// its panels when collapsed.
type dashboardPanel struct {
	Title      string           `json:"title"`
	Type       string           `json:"type"`
	Datasource *dashboardSource `json:"datasource"`
	Targets    []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []dashboardPanel `json:"panels"`
}

type dashboardSource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// panelQuery is one panel's PromQL, its variables substituted.
type panelQuery struct {
	panel, expr string
}

// grafanaBuiltins are the values given to Grafana's own variables: a rate
// window that holds many of the test Prometheus's 1 s scrapes.
var grafanaBuiltins = map[string]string{"__rate_interval": "1m", "__interval": "15s", "__range": "5m"}

var dashboardVariable = regexp.MustCompile(`\$(?:\{(\w+)\}|(\w+))`)

// dashboardQueries reads the dashboard at path: every panel's queries, each
// template variable replaced by its "All" value and Grafana's own by
// grafanaBuiltins. It fails the test if the dashboard has no datasource
// variable, or a panel does not query through it or has no query, or a
// query uses a variable it does not define.
func dashboardQueries(t *testing.T, path string) []panelQuery {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels     []dashboardPanel `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Query      any    `json:"query"`
				IncludeAll bool   `json:"includeAll"`
				AllValue   string `json:"allValue"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("read dashboard %s: %v", path, err)
	}
	values := maps.Clone(grafanaBuiltins)
	datasource := ""
	for _, v := range d.Templating.List {
		switch {
		case v.Type == "datasource" && v.Query == "prometheus":
			datasource = v.Name
		case v.IncludeAll && v.AllValue != "":
			values[v.Name] = v.AllValue
		}
	}
	if datasource == "" {
		t.Fatalf("dashboard %s: no Prometheus datasource variable", path)
	}
	var queries []panelQuery
	var walk func([]dashboardPanel)
	walk = func(panels []dashboardPanel) {
		for _, p := range panels {
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${"+datasource+"}" {
				t.Errorf("panel %q: datasource %+v, not the ${%s} variable", p.Title, p.Datasource, datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q: no query", p.Title)
			}
			for _, target := range p.Targets {
				q, err := substitute(target.Expr, values)
				if err != nil {
					t.Errorf("panel %q: %v", p.Title, err)
					continue
				}
				queries = append(queries, panelQuery{panel: p.Title, expr: q})
			}
		}
	}
	walk(d.Panels)
	if t.Failed() {
		t.FailNow()
	}
	return queries
}

// substitute replaces expr's variables by their values.
func substitute(expr string, values map[string]string) (string, error) {
	var err error
	out := dashboardVariable.ReplaceAllStringFunc(expr, func(v string) string {
		m := dashboardVariable.FindStringSubmatch(v)
		name := m[1] + m[2]
		value, ok := values[name]
		if !ok {
			err = fmt.Errorf("query %s: variable $%s is not one the dashboard defines with an All value", expr, name)
		}
		return value
	})
	return out, err
}
