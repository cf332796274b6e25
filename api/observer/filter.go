package observer

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/api/filters"
)

// FilterBuilder compiles a request's whitelist and blacklist into one
// filters.Func. Its errors name the bad field.
type FilterBuilder func(whitelist, blacklist []*flowpb.FlowFilter) (filters.Func, error)

// defaultFilterBuilder compiles every Hubble filter field with the filters
// package.
func defaultFilterBuilder(whitelist, blacklist []*flowpb.FlowFilter) (filters.Func, error) {
	return filters.Build(whitelist, blacklist)
}
