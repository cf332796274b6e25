package filters

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

// eventTypeOf returns the Hubble event type and sub-type of a record.
func eventTypeOf(r *record.Record) (typ, subType int32, ok bool) {
	switch r.Kind {
	case record.KindTrace:
		return flowview.EventTypeTrace, flowview.TraceSubType(r.ObsPoint), true
	case record.KindDrop:
		return flowview.EventTypeDrop, int32(r.DropReason), true
	case record.KindL7:
		return flowview.EventTypeL7, 0, true
	}
	return 0, 0, false
}

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
		typ, sub, ok := eventTypeOf(&e.Rec)
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
