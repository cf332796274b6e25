package export

import (
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	relaypb "github.com/cilium/cilium/api/v1/relay"

	"github.com/foveanet/fovea/model/flowview"
)

// Sink is where an exporter's follower puts what passed its filters. Its
// methods are called from the follower's goroutine only, and never fail:
// a sink counts what it could not export in its Status.
type Sink interface {
	// Flow takes one flow, its field mask applied (f), and the record it
	// was built from (ev, valid only during the call).
	Flow(ev *flowview.Flow, f *flowpb.Flow)
	// Lost takes a count of events lost before the exporter saw them.
	Lost(t time.Time, lost *flowpb.LostEvent)
	// NodeStatus takes a change of the exporter's own state: started,
	// stopped.
	NodeStatus(t time.Time, st *relaypb.NodeStatusEvent)
	// Idle is called when the follower has caught up with the ring, before
	// it waits for more: buffered events go out now. It returns when it
	// wants to be called again even if nothing is written, or zero.
	Idle(now time.Time) time.Time
	// Close writes what is buffered and releases the sink.
	Close() error
}
