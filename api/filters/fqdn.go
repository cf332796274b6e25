package filters

import (
	"fmt"
	"regexp"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
)

func buildFQDN(ff *flowpb.FlowFilter, c *config) ([]Func, error) {
	var fs []Func
	if v := ff.GetSourceFqdn(); len(v) > 0 {
		re, err := c.budget.compileAlternatives(v, writeFQDNPattern)
		if err != nil {
			return nil, fmt.Errorf("source_fqdn: %w", err)
		}
		m := &namesMatcher{re: re}
		fs = append(fs, func(e *flowview.Flow) bool { return !e.IsLost() && m.match(e.Node().Tables, e.Rec.SrcNames) })
	}
	if v := ff.GetDestinationFqdn(); len(v) > 0 {
		re, err := c.budget.compileAlternatives(v, writeFQDNPattern)
		if err != nil {
			return nil, fmt.Errorf("destination_fqdn: %w", err)
		}
		m := &namesMatcher{re: re}
		fs = append(fs, func(e *flowview.Flow) bool { return !e.IsLost() && m.match(e.Node().Tables, e.Rec.DstNames) })
	}
	return fs, nil
}

// namesMatcher matches interned name lists, caching the answer per list.
type namesMatcher struct {
	re    *regexp.Regexp
	cache refCache
}

func (m *namesMatcher) match(t *intern.Tables, ref intern.Ref) bool {
	if ref == 0 {
		return false
	}
	if match, ok := m.cache.lookup(t, ref); ok {
		return match
	}
	match := anyNameMatches(m.re, t.Names.Get(ref))
	m.cache.store(t, ref, match)
	return match
}

func anyNameMatches(re *regexp.Regexp, names []string) bool {
	for _, n := range names {
		if re.MatchString(n) {
			return true
		}
	}
	return false
}
