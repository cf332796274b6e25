package filters

import (
	"fmt"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	k8slabels "k8s.io/apimachinery/pkg/labels"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
)

func buildLabels(ff *flowpb.FlowFilter, c *config) ([]Func, error) {
	var fs []Func
	if v := ff.GetSourceLabel(); len(v) > 0 {
		m, err := newEndpointLabelMatcher(&c.budget, "source_label", v)
		if err != nil {
			return nil, err
		}
		fs = append(fs, func(e *flowview.Flow) bool { return m.match(e.Node().Tables, e.Rec.SrcEndpoint) })
	}
	if v := ff.GetDestinationLabel(); len(v) > 0 {
		m, err := newEndpointLabelMatcher(&c.budget, "destination_label", v)
		if err != nil {
			return nil, err
		}
		fs = append(fs, func(e *flowview.Flow) bool { return m.match(e.Node().Tables, e.Rec.DstEndpoint) })
	}
	if v := ff.GetNodeLabels(); len(v) > 0 {
		sels, err := c.budget.parseSelectors("node_labels", v)
		if err != nil {
			return nil, err
		}
		matchLabels := func(labels []string) bool { return anySelectorMatches(sels, nodeLabels(labels)) }
		// Hubble matches lost events as flows without labels.
		lost := matchLabels(nil)
		cache := &nodeLabelsCache{}
		fs = append(fs, func(e *flowview.Flow) bool {
			if e.IsLost() {
				return lost
			}
			return cache.get(e.Node().LabelsAt(e.Rec.Time), matchLabels)
		})
	}
	return fs, nil
}

// endpointLabelMatcher matches the labels of interned endpoints, caching the
// answer per endpoint. Lost events reference no endpoint (Ref 0), which
// matches like an endpoint without labels, as in Hubble.
type endpointLabelMatcher struct {
	sels  []k8slabels.Selector
	cache refCache
}

func newEndpointLabelMatcher(b *budget, field string, values []string) (*endpointLabelMatcher, error) {
	sels, err := b.parseSelectors(field, values)
	if err != nil {
		return nil, err
	}
	return &endpointLabelMatcher{sels: sels}, nil
}

func (m *endpointLabelMatcher) match(t *intern.Tables, ref intern.Ref) bool {
	if match, ok := m.cache.lookup(t, ref); ok {
		return match
	}
	match := anySelectorMatches(m.sels, (*endpointLabels)(t.Endpoints.Get(ref)))
	m.cache.store(t, ref, match)
	return match
}

// parseSelectors parses Kubernetes label selectors whose keys may carry a
// Cilium source ("k8s:app=web"); see translateSelector. Their length is
// charged to b.
func (b *budget) parseSelectors(field string, values []string) ([]k8slabels.Selector, error) {
	sels := make([]k8slabels.Selector, 0, len(values))
	for _, v := range values {
		if err := b.takeSelector(len(v)); err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		s, err := k8slabels.Parse(translateSelector(v))
		if err != nil {
			return nil, fmt.Errorf("%s: invalid label selector %s: %w", field, quoted(v), err)
		}
		sels = append(sels, s)
	}
	return sels, nil
}

func anySelectorMatches(sels []k8slabels.Selector, labels k8slabels.Labels) bool {
	for _, s := range sels {
		if s.Matches(labels) {
			return true
		}
	}
	return false
}
