package filters

import (
	"slices"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

func buildTrafficDirection(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	dirs := slices.Clone(ff.GetTrafficDirection())
	if len(dirs) == 0 {
		return nil, nil
	}
	return []Func{onFlow(trafficDirectionIn(dirs))}, nil
}

func trafficDirectionIn(dirs []flowpb.TrafficDirection) flowFunc {
	return func(f *flowpb.Flow) bool { return f != nil && slices.Contains(dirs, f.GetTrafficDirection()) }
}
