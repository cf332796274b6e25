package filters

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
)

type eventTypePattern struct {
	typ          int32
	subType      int32
	matchSubType bool
}

// buildEventType matches event types; type 0 matches any type. Lost events
// always match: Hubble offers no way to filter them out.
func buildEventType(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	v := ff.GetEventType()
	if len(v) == 0 {
		return nil, nil
	}
	patterns := make([]eventTypePattern, len(v))
	for i, t := range v {
		patterns[i] = eventTypePattern{typ: t.GetType(), subType: t.GetSubType(), matchSubType: t.GetMatchSubType()}
	}
	return []Func{func(e *flowview.Flow) bool {
		if e.IsLost() {
			return true
		}
		typ, sub, ok := flowview.EventType(&e.Rec)
		if !ok {
			return false
		}
		for _, p := range patterns {
			if (p.typ == 0 || p.typ == typ) && (!p.matchSubType || p.subType == sub) {
				return true
			}
		}
		return false
	}}, nil
}
