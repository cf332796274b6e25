package filters

import (
	"slices"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

func buildTraceID(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	var fs []Func
	if ids := slices.Clone(ff.GetTraceId()); len(ids) > 0 {
		fs = append(fs, onFlow(traceIDIn(ids)))
	}
	if ids := slices.Clone(ff.GetIpTraceId()); len(ids) > 0 {
		fs = append(fs, onFlow(ipTraceIDIn(ids)))
	}
	return fs, nil
}

// traceIDIn matches the flow's trace context parent; a flow without one has
// the empty trace ID, as in Hubble.
func traceIDIn(ids []string) flowFunc {
	return func(f *flowpb.Flow) bool {
		return slices.Contains(ids, f.GetTraceContext().GetParent().GetTraceId())
	}
}

// ipTraceIDIn matches the IP option trace ID; a flow without one has ID 0.
func ipTraceIDIn(ids []uint64) flowFunc {
	return func(f *flowpb.Flow) bool { return slices.Contains(ids, f.GetIpTraceId().GetTraceId()) }
}
