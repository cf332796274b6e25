package metrics

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Series is one registered metric as a golden list shows it.
type Series struct {
	Name   string
	Type   string   // counter, gauge, histogram or summary
	Labels []string // the names of its variable labels
	Help   string
}

// String is the series' line in a golden list: name{labels} type: help.
func (s Series) String() string {
	name := s.Name
	if len(s.Labels) > 0 {
		name += "{" + strings.Join(s.Labels, ",") + "}"
	}
	return fmt.Sprintf("%s %s: %s", name, s.Type, s.Help)
}

// Series lists every registered series by name, whether it has a value
// yet or not (a vector nothing has counted in, a datapath not loaded). One
// with no value is typed by its name: counters' names, and only theirs, end
// in _total (but those AllowCounterNames lets lack it), which Series
// checks of every series that has a value.
func (r *Registry) Series() ([]Series, error) {
	families, err := r.reg.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather metrics: %w", err)
	}
	types := make(map[string]string, len(families))
	for _, mf := range families {
		types[mf.GetName()] = strings.ToLower(mf.GetType().String())
	}
	var list []Series
	for _, c := range r.registered {
		for _, d := range describe(c) {
			s, err := parseDesc(d)
			if err != nil {
				return nil, err
			}
			typ, gathered := types[s.Name]
			counter := strings.HasSuffix(s.Name, "_total") || r.foreignCounters[s.Name]
			switch {
			case !gathered && r.histograms[s.Name]:
				typ = "histogram"
			case !gathered && counter:
				typ = "counter"
			case !gathered:
				typ = "gauge"
			case (typ == "counter") != counter:
				return nil, fmt.Errorf("list metrics: %s is a %s, but counters' names, and only theirs, end in _total", s.Name, typ)
			}
			s.Type = typ
			list = append(list, s)
		}
	}
	slices.SortFunc(list, func(a, b Series) int { return strings.Compare(a.Name, b.Name) })
	return list, nil
}

// names are the names of c's series, for errors.
func names(c prometheus.Collector) []string {
	var list []string
	for _, d := range describe(c) {
		if s, err := parseDesc(d); err == nil {
			list = append(list, s.Name)
		} else {
			list = append(list, d.String())
		}
	}
	return list
}

func describe(c prometheus.Collector) []*prometheus.Desc {
	ch := make(chan *prometheus.Desc)
	go func() {
		c.Describe(ch)
		close(ch)
	}()
	var descs []*prometheus.Desc
	for d := range ch {
		descs = append(descs, d)
	}
	return descs
}

// descForm is how client_golang writes a Desc, the only way it shows its
// name, help and label names.
var descForm = regexp.MustCompile(`^Desc{fqName: ("(?:[^"\\]|\\.)*"), help: ("(?:[^"\\]|\\.)*"), .*variableLabels: {(.*)}}$`)

// parseDesc reads the name, help and label names of d.
func parseDesc(d *prometheus.Desc) (Series, error) {
	m := descForm.FindStringSubmatch(d.String())
	if m == nil {
		return Series{}, fmt.Errorf("read metric description %s: not in the form client_golang writes", d)
	}
	name, err := strconv.Unquote(m[1])
	if err != nil {
		return Series{}, fmt.Errorf("read metric description %s: %w", d, err)
	}
	help, err := strconv.Unquote(m[2])
	if err != nil {
		return Series{}, fmt.Errorf("read metric description %s: %w", d, err)
	}
	s := Series{Name: name, Help: help}
	if m[3] != "" {
		s.Labels = strings.Split(m[3], ",")
	}
	return s, nil
}
