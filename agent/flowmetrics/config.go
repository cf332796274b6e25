package flowmetrics

import (
	"slices"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/proto"
)

// Config is the set of metrics to count, in the shape of Cilium's Hubble
// metrics configuration (its dynamic metrics ConfigMap), so one file or
// flag serves both.
type Config struct {
	Metrics []MetricConfig `json:"metrics,omitempty"`
	// Retina enables Retina's flow series, beside Hubble's.
	Retina RetinaConfig `json:"retina,omitzero"`
}

// MetricConfig enables one handler.
type MetricConfig struct {
	// Name is the handler: flow, drop, tcp, dns, port-distribution, icmp
	// or flows-to-world.
	Name string `json:"name"`
	// ContextOptions are its options: context labels (sourceContext and
	// the others) and the handler's own (dns query, ignoreAAAA).
	ContextOptions []ContextOption `json:"contextOptions,omitempty"`
	// IncludeFilters and ExcludeFilters select the flows it counts, as a
	// GetFlows whitelist and blacklist.
	IncludeFilters []*flowpb.FlowFilter `json:"includeFilters,omitempty"`
	ExcludeFilters []*flowpb.FlowFilter `json:"excludeFilters,omitempty"`
}

// ContextOption is one option of a handler; a flag option (query) has no
// values.
type ContextOption struct {
	Name   string   `json:"name"`
	Values []string `json:"values,omitempty"`
}

// Validate reports the first handler, option or value Fovea does not know,
// naming it.
func (c Config) Validate() error {
	if _, err := compile(c, DefaultSeriesLimit); err != nil {
		return err
	}
	return c.Retina.validate()
}

// equal reports whether m and o enable the same handler the same way.
func (m MetricConfig) equal(o MetricConfig) bool {
	sameFilter := func(a, b *flowpb.FlowFilter) bool { return proto.Equal(a, b) }
	sameOption := func(a, b ContextOption) bool {
		return a.Name == b.Name && slices.Equal(a.Values, b.Values)
	}
	return m.Name == o.Name && slices.EqualFunc(m.ContextOptions, o.ContextOptions, sameOption) &&
		slices.EqualFunc(m.IncludeFilters, o.IncludeFilters, sameFilter) &&
		slices.EqualFunc(m.ExcludeFilters, o.ExcludeFilters, sameFilter)
}
