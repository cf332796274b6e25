package filters

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

// flowFunc is a predicate over a full flow. It must accept a nil flow: that
// is what a lost event looks like to Hubble's filters, and matching it the
// same way keeps lost-event filtering identical.
type flowFunc func(*flowpb.Flow) bool

// onFlow evaluates f on the event's full flow, which is built on first use.
func onFlow(f flowFunc) Func {
	return func(e *flowview.Flow) bool {
		if e.IsLost() {
			return f(nil)
		}
		return f(e.Flow())
	}
}

// onL7Flow is onFlow for fields only L7 flows carry: other events fail
// without building their flow.
func onL7Flow(f flowFunc) Func {
	return func(e *flowview.Flow) bool {
		if e.Rec.Kind != record.KindL7 {
			return f(nil)
		}
		return f(e.Flow())
	}
}
