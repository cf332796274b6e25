package filters

import (
	"fmt"
	"log/slog"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
)

// Func reports whether an event matches.
type Func func(*flowview.Flow) bool

// Option configures Build.
type Option func(*config)

type config struct {
	log    *slog.Logger
	budget budget
}

// WithLogger sets the logger that reports filters failing at evaluation time
// (a CEL expression hitting a runtime error). The default discards.
func WithLogger(log *slog.Logger) Option {
	return func(c *config) {
		if log != nil {
			c.log = log
		}
	}
}

// builder compiles the FlowFilter fields of one family into predicates, one
// per set field. Errors name the offending field (e.g. "source_ip: ...").
type builder func(ff *flowpb.FlowFilter, c *config) ([]Func, error)

// builders lists every family; together they cover every FlowFilter field.
var builders = []builder{
	buildUUID,
	buildEventType,
	buildVerdict,
	buildDropReasonDesc,
	buildReply,
	buildEncrypted,
	buildIdentity,
	buildProtocol,
	buildIP,
	buildIPVersion,
	buildPod,
	buildWorkload,
	buildService,
	buildFQDN,
	buildDNSQuery,
	buildLabels,
	buildPort,
	buildHTTP,
	buildTCPFlags,
	buildNodeName,
	buildClusterName,
	buildTraceID,
	buildTrafficDirection,
	buildInterface,
	buildCEL,
}

// Build compiles Hubble's whitelist/blacklist: an event passes if it matches at least one whitelist filter
// (or the whitelist is empty) and none of the blacklist filters. Inside one FlowFilter all set fields are ANDed;
// the values of one field are ORed. Requests over the package's limits
// (MaxFilters and the others) are rejected with an error naming the field.
//
// The Func is safe for concurrent use; it may build the event's flow (flowview.Flow.Flow).
func Build(whitelist, blacklist []*flowpb.FlowFilter, opts ...Option) (Func, error) {
	c := &config{log: slog.New(slog.DiscardHandler), budget: newBudget()}
	for _, o := range opts {
		o(c)
	}
	allow, err := buildList("whitelist", whitelist, c)
	if err != nil {
		return nil, err
	}
	deny, err := buildList("blacklist", blacklist, c)
	if err != nil {
		return nil, err
	}
	switch {
	case len(allow) == 0 && len(deny) == 0:
		return matchAll, nil
	case len(deny) == 0:
		return anyOf(allow), nil
	case len(allow) == 0:
		return noneOf(deny), nil
	}
	pass, block := anyOf(allow), noneOf(deny)
	return func(e *flowview.Flow) bool { return pass(e) && block(e) }, nil
}

func buildList(name string, ffs []*flowpb.FlowFilter, c *config) ([]Func, error) {
	if len(ffs) > MaxFilters {
		return nil, fmt.Errorf("%s: %d filters, at most %d", name, len(ffs), MaxFilters)
	}
	fs := make([]Func, 0, len(ffs))
	for i, ff := range ffs {
		f, err := buildOne(ff, c)
		if err != nil {
			return nil, fmt.Errorf("%s[%d].%w", name, i, err)
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// buildOne ANDs the predicates of every set field of ff; a nil or empty
// filter matches everything, as in Hubble.
func buildOne(ff *flowpb.FlowFilter, c *config) (Func, error) {
	if err := checkValueCounts(ff.ProtoReflect(), ""); err != nil {
		return nil, err
	}
	var all []Func
	for _, b := range builders {
		fs, err := b(ff, c)
		if err != nil {
			return nil, err
		}
		all = append(all, fs...)
	}
	return allOf(all), nil
}

func matchAll(*flowview.Flow) bool { return true }

func allOf(fs []Func) Func {
	switch len(fs) {
	case 0:
		return matchAll
	case 1:
		return fs[0]
	}
	return func(e *flowview.Flow) bool {
		for _, f := range fs {
			if !f(e) {
				return false
			}
		}
		return true
	}
}

func anyOf(fs []Func) Func {
	if len(fs) == 1 {
		return fs[0]
	}
	return func(e *flowview.Flow) bool {
		for _, f := range fs {
			if f(e) {
				return true
			}
		}
		return len(fs) == 0
	}
}

func noneOf(fs []Func) Func {
	return func(e *flowview.Flow) bool {
		for _, f := range fs {
			if f(e) {
				return false
			}
		}
		return true
	}
}
