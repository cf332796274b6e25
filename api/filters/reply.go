package filters

import (
	"slices"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
)

// buildReply matches is_reply. A flow whose direction is unknown never
// matches, except a dropped one, which counts as not a reply: Hubble does
// this for clients (Hubble UI) written against the deprecated reply field,
// which was false for every drop.
func buildReply(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	want := slices.Clone(ff.GetReply())
	if len(want) == 0 {
		return nil, nil
	}
	return []Func{func(e *flowview.Flow) bool {
		if e.IsLost() {
			return false
		}
		reply, known := e.Rec.Reply()
		if !known && flowpb.Verdict(e.Rec.Verdict) != flowpb.Verdict_DROPPED {
			return false
		}
		return slices.Contains(want, reply && known)
	}}, nil
}
