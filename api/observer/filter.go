package observer

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/api/filters"
)

// defaultFilterBuilder compiles filters with the agent's filter package.
func defaultFilterBuilder(whitelist, blacklist []*flowpb.FlowFilter) (Filter, error) {
	f, err := filters.Build(whitelist, blacklist)
	if err != nil {
		return nil, err
	}
	return Filter(f), nil
}
