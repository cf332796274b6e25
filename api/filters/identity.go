package filters

import (
	"slices"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/agent/event"
)

func buildIdentity(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	var fs []Func
	if ids := slices.Clone(ff.GetSourceIdentity()); len(ids) > 0 {
		fs = append(fs, func(e *event.Event) bool {
			return !e.IsLost() && slices.Contains(ids, e.SrcEndpoint().GetIdentity())
		})
	}
	if ids := slices.Clone(ff.GetDestinationIdentity()); len(ids) > 0 {
		fs = append(fs, func(e *event.Event) bool {
			return !e.IsLost() && slices.Contains(ids, e.DstEndpoint().GetIdentity())
		})
	}
	return fs, nil
}
