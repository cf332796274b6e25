package filters

import (
	"fmt"
	"slices"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
)

func buildClusterName(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	var fs []Func
	if v := ff.GetSourceClusterName(); len(v) > 0 {
		names, err := clusterNames("source_cluster_name", v)
		if err != nil {
			return nil, err
		}
		fs = append(fs, func(e *flowview.Flow) bool {
			return !e.IsLost() && slices.Contains(names, e.SrcEndpoint().GetClusterName())
		})
	}
	if v := ff.GetDestinationClusterName(); len(v) > 0 {
		names, err := clusterNames("destination_cluster_name", v)
		if err != nil {
			return nil, err
		}
		fs = append(fs, func(e *flowview.Flow) bool {
			return !e.IsLost() && slices.Contains(names, e.DstEndpoint().GetClusterName())
		})
	}
	return fs, nil
}

func clusterNames(field string, v []string) ([]string, error) {
	if slices.Contains(v, "") {
		return nil, fmt.Errorf("%s: cluster name must not be empty", field)
	}
	return slices.Clone(v), nil
}
