package flowmetrics

import (
	"fmt"
	"slices"
	"strings"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/api/filters"
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

// event is the record the handlers count, with what several of them read
// worked out once.
type event struct {
	flowview.Flow
	dns  *flowpb.DNS  // an L7 record's DNS details, if it has them
	http *flowpb.HTTP // an L7 record's HTTP details, if it has them
	dir  flowpb.TrafficDirection
	now  int64 // when it was counted, Unix nanoseconds: series' last update
}

// handler counts events into its metrics' series.
type handler interface {
	observe(ev *event)
	stores() []*store
}

// base is what every handler has: its context labels, its flow filters
// and the buffer it builds series keys in.
type base struct {
	ctx    contextOptions
	filter filters.Func // nil: every flow
	key    []byte
}

func (b *base) match(ev *event) bool { return b.filter == nil || b.filter(&ev.Flow) }

// labels are the handler's own label names followed by the context's.
func (b *base) labels(own ...string) []string { return append(own, b.ctx.names()...) }

// handlerKind is a handler Fovea has: its name, the options of its own
// (flags, without values) and how it is built.
type handlerKind struct {
	name  string
	flags []string
	// valued are options of its own that take a value: true or false.
	valued []string
	// conflicts names a handler that counts the same metrics.
	conflicts string
	build     func(b base, flags map[string]bool, limit int) handler
}

// handlerKinds are the handlers, by the names --metrics gives them.
var handlerKinds = []handlerKind{
	{name: "flow", build: newFlowHandler},
	{name: "drop", build: newDropHandler},
	{name: "tcp", build: newTCPHandler},
	{name: "dns", flags: []string{optQuery, optIgnoreAAAA}, build: newDNSHandler},
	{name: "port-distribution", build: newPortHandler},
	{name: "icmp", build: newICMPHandler},
	{name: "flows-to-world", flags: []string{optAnyDrop, optPort, optSynOnly}, build: newWorldHandler},
	{name: "policy", build: newPolicyHandler},
	{name: "http", valued: []string{optExemplars}, conflicts: "httpV2", build: newHTTPHandler},
	{name: "httpV2", valued: []string{optExemplars}, conflicts: "http", build: newHTTPV2Handler},
}

// compile builds the handlers cfg enables, each metric limited to limit
// series. Errors name the handler, option or value at fault.
func compile(cfg Config, limit int) ([]handler, error) {
	var hs []handler
	seen := map[string]bool{}
	for _, m := range cfg.Metrics {
		i := slices.IndexFunc(handlerKinds, func(k handlerKind) bool { return k.name == m.Name })
		if i < 0 {
			return nil, fmt.Errorf("metric %q: unknown handler (known: %s)", m.Name, strings.Join(kindNames(), ", "))
		}
		if seen[m.Name] {
			return nil, fmt.Errorf("metric %s: given twice", m.Name)
		}
		seen[m.Name] = true
		kind := handlerKinds[i]
		if seen[kind.conflicts] {
			return nil, fmt.Errorf("metric %s: conflicts with %s, which counts the same series", m.Name, kind.conflicts)
		}
		b, flags, err := parseOptions(kind, m)
		if err != nil {
			return nil, fmt.Errorf("metric %s: %w", m.Name, err)
		}
		if len(m.IncludeFilters)+len(m.ExcludeFilters) > 0 {
			if b.filter, err = filters.Build(m.IncludeFilters, m.ExcludeFilters); err != nil {
				return nil, fmt.Errorf("metric %s: build filters: %w", m.Name, err)
			}
		}
		hs = append(hs, kind.build(b, flags, limit))
	}
	return hs, nil
}

func kindNames() []string {
	names := make([]string, len(handlerKinds))
	for i, k := range handlerKinds {
		names[i] = k.name
	}
	return names
}

// parseOptions reads a metric's options: context options into the base,
// the handler's flags into the map (by their canonical names).
func parseOptions(kind handlerKind, m MetricConfig) (base, map[string]bool, error) {
	var b base
	flags := map[string]bool{}
	given := map[string]bool{}
	for _, opt := range m.ContextOptions {
		lower := strings.ToLower(opt.Name)
		if given[lower] {
			return base{}, nil, fmt.Errorf("option %s: given twice", opt.Name)
		}
		given[lower] = true
		if isContextOption(opt.Name) {
			if err := b.ctx.set(opt); err != nil {
				return base{}, nil, fmt.Errorf("option %s: %w", opt.Name, err)
			}
			continue
		}
		if j := slices.IndexFunc(kind.valued, func(f string) bool { return strings.EqualFold(f, opt.Name) }); j >= 0 {
			if len(opt.Values) != 1 || (opt.Values[0] != "true" && opt.Values[0] != "false") {
				return base{}, nil, fmt.Errorf("option %s: want true or false, got %q", opt.Name, strings.Join(opt.Values, "|"))
			}
			flags[kind.valued[j]] = opt.Values[0] == "true"
			continue
		}
		i := slices.IndexFunc(kind.flags, func(f string) bool { return strings.EqualFold(f, opt.Name) })
		if i < 0 {
			known := append(append(slices.Clone(kind.flags), kind.valued...), contextOptionNames...)
			return base{}, nil, fmt.Errorf("option %q: unknown (known: %s)", opt.Name, strings.Join(known, ", "))
		}
		if opt.Values != nil {
			return base{}, nil, fmt.Errorf("option %s: takes no value, got %q", opt.Name, strings.Join(opt.Values, "|"))
		}
		flags[kind.flags[i]] = true
	}
	return b, flags, nil
}

// countable reports whether a verdict is one the tcp and port-distribution
// handlers count: the packet went on.
func countable(v uint8) bool {
	return flowpb.Verdict(v) == flowpb.Verdict_FORWARDED || flowpb.Verdict(v) == flowpb.Verdict_REDIRECTED
}

// hasL4 reports whether the record's flow carries an L4 layer.
func hasL4(r *record.Record) bool { return l4Names[r.Proto] != "" }
