package filters

import (
	"slices"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
)

func buildIdentity(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	var fs []Func
	if ids := slices.Clone(ff.GetSourceIdentity()); len(ids) > 0 {
		fs = append(fs, func(e *flowview.Flow) bool {
			return !e.IsLost() && slices.Contains(ids, e.SrcEndpoint().GetIdentity())
		})
	}
	if ids := slices.Clone(ff.GetDestinationIdentity()); len(ids) > 0 {
		fs = append(fs, func(e *flowview.Flow) bool {
			return !e.IsLost() && slices.Contains(ids, e.DstEndpoint().GetIdentity())
		})
	}
	return fs, nil
}
