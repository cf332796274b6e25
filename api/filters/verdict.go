package filters

import (
	"slices"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

func buildVerdict(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	verdicts := slices.Clone(ff.GetVerdict())
	if len(verdicts) == 0 {
		return nil, nil
	}
	return []Func{func(e *flowview.Flow) bool {
		return !e.IsLost() && slices.Contains(verdicts, flowpb.Verdict(e.Rec.Verdict))
	}}, nil
}

// buildDropReasonDesc matches the drop reason of dropped flows only.
func buildDropReasonDesc(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	reasons := slices.Clone(ff.GetDropReasonDesc())
	if len(reasons) == 0 {
		return nil, nil
	}
	return []Func{func(e *flowview.Flow) bool {
		return !e.IsLost() && flowpb.Verdict(e.Rec.Verdict) == flowpb.Verdict_DROPPED &&
			slices.Contains(reasons, dropReasonDesc(&e.Rec))
	}}, nil
}

// dropReasonDesc is the flow's drop_reason_desc: only drop and policy
// verdict records carry a reason; other dropped flows (an L7 denial) have
// the unknown reason.
func dropReasonDesc(r *record.Record) flowpb.DropReason {
	if r.Kind != record.KindDrop && r.Kind != record.KindPolicyVerdict {
		return flowpb.DropReason_DROP_REASON_UNKNOWN
	}
	return flowpb.DropReason(r.DropReason)
}
