package filters

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
)

// workloadPattern matches a workload; an empty kind or name matches any.
type workloadPattern struct{ kind, name string }

func buildWorkload(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	var fs []Func
	if v := ff.GetSourceWorkload(); len(v) > 0 {
		p := workloadPatterns(v)
		fs = append(fs, func(e *flowview.Flow) bool { return !e.IsLost() && workloadIn(e.SrcEndpoint(), p) })
	}
	if v := ff.GetDestinationWorkload(); len(v) > 0 {
		p := workloadPatterns(v)
		fs = append(fs, func(e *flowview.Flow) bool { return !e.IsLost() && workloadIn(e.DstEndpoint(), p) })
	}
	return fs, nil
}

func workloadPatterns(ws []*flowpb.Workload) []workloadPattern {
	out := make([]workloadPattern, len(ws))
	for i, w := range ws {
		out[i] = workloadPattern{kind: w.GetKind(), name: w.GetName()}
	}
	return out
}

func workloadIn(ep *flowpb.Endpoint, patterns []workloadPattern) bool {
	for _, w := range ep.GetWorkloads() {
		for _, p := range patterns {
			if (p.name == "" || p.name == w.GetName()) && (p.kind == "" || p.kind == w.GetKind()) {
				return true
			}
		}
	}
	return false
}
