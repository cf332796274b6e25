package flowview

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

// NotPolicyDropSummary ends the summary of a drop whose connection every
// network policy allowed: the kernel dropped it for another reason (a
// firewall rule of its own, a missing route), and the flow says so rather
// than let a POLICY_DENIED from netfilter read as a policy's.
const NotPolicyDropSummary = "; allowed by network policy"

// PolicyDirection is the traffic direction a policy decision applies to:
// egress from the source pod, or ingress into the destination pod.
func PolicyDirection(r *record.Record) flowpb.TrafficDirection {
	if r.Flags&record.FlagPolicyEgress != 0 {
		return flowpb.TrafficDirection_EGRESS
	}
	return flowpb.TrafficDirection_INGRESS
}

// buildPolicyVerdict fills a policy verdict event as Cilium's parser does:
// the policies in the field of its direction and outcome (allowed for
// FORWARDED, denied for AUDIT and DROPPED), and policy_match_type. The
// record says is_reply false for a delivered first packet and leaves it
// unknown for a dropped one, as Cilium's parser does.
func buildPolicyVerdict(e *Flow, f *flowpb.Flow) {
	r := &e.Rec
	f.PolicyMatchType = r.Detail
	verdict := flowpb.Verdict(r.Verdict)
	buildPolicies(e, f, verdict == flowpb.Verdict_AUDIT || verdict == flowpb.Verdict_DROPPED)
	if verdict == flowpb.Verdict_DROPPED {
		f.DropReason = uint32(r.DropReason)
		f.DropReasonDesc = flowpb.DropReason(r.DropReason)
		if names := e.node.Tables.Names.Get(r.Ext); len(names) == 1 {
			f.Summary = DropSummary(r, names[0])
		}
	}
}

// buildPolicies sets the record's policies in the allowed or denied field
// of its policy direction.
func buildPolicies(e *Flow, f *flowpb.Flow, denied bool) {
	r := &e.Rec
	policies := e.node.Tables.Policies.Get(r.Policy)
	if policies == nil {
		return
	}
	if f.TrafficDirection == flowpb.TrafficDirection_TRAFFIC_DIRECTION_UNKNOWN {
		f.TrafficDirection = PolicyDirection(r)
	}
	egress := r.Flags&record.FlagPolicyEgress != 0
	switch {
	case egress && denied:
		f.EgressDeniedBy = policies
	case egress:
		f.EgressAllowedBy = policies
	case denied:
		f.IngressDeniedBy = policies
	default:
		f.IngressAllowedBy = policies
	}
}
