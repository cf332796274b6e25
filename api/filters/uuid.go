package filters

import (
	"slices"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

func buildUUID(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	ids := slices.Clone(ff.GetUuid())
	if len(ids) == 0 {
		return nil, nil
	}
	return []Func{onFlow(uuidIn(ids))}, nil
}

func uuidIn(ids []string) flowFunc {
	return func(f *flowpb.Flow) bool { return f != nil && slices.Contains(ids, f.GetUuid()) }
}
