package filters

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
)

func buildPod(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	var fs []Func
	if v := ff.GetSourcePod(); len(v) > 0 {
		p, err := parseNamespacedNames("source_pod", "pod", v)
		if err != nil {
			return nil, err
		}
		fs = append(fs, func(e *flowview.Flow) bool { return !e.IsLost() && endpointPodIn(e.SrcEndpoint(), p) })
	}
	if v := ff.GetDestinationPod(); len(v) > 0 {
		p, err := parseNamespacedNames("destination_pod", "pod", v)
		if err != nil {
			return nil, err
		}
		fs = append(fs, func(e *flowview.Flow) bool { return !e.IsLost() && endpointPodIn(e.DstEndpoint(), p) })
	}
	return fs, nil
}

func endpointPodIn(ep *flowpb.Endpoint, patterns []namespacedName) bool {
	return matchNamespacedName(patterns, ep.GetNamespace(), ep.GetPodName())
}
