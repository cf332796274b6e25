package flowview

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

// Direction returns the flow's traffic direction as Cilium defines it: the
// direction of the connection relative to the local endpoint, so a reply
// inherits its request's direction. A packet leaving the local endpoint or
// node (FROM_ENDPOINT, TO_NETWORK, TO_OVERLAY, TO_STACK, FROM_HOST, and
// FROM_STACK: a segment the local stack retransmits) is egress unless it is
// a reply; a packet arriving (TO_ENDPOINT, FROM_NETWORK, FROM_OVERLAY,
// TO_HOST) is ingress unless it is a reply. Without connection tracking the
// direction is unknown. A policy verdict's is the policies' (PolicyDirection).
func Direction(r *record.Record) flowpb.TrafficDirection {
	if r.Kind == record.KindPolicyVerdict {
		return PolicyDirection(r)
	}
	reply, known := r.Reply()
	if !known {
		return flowpb.TrafficDirection_TRAFFIC_DIRECTION_UNKNOWN
	}
	var leaving bool
	switch flowpb.TraceObservationPoint(r.ObsPoint) {
	case flowpb.TraceObservationPoint_FROM_ENDPOINT, flowpb.TraceObservationPoint_TO_NETWORK,
		flowpb.TraceObservationPoint_TO_OVERLAY, flowpb.TraceObservationPoint_TO_STACK,
		flowpb.TraceObservationPoint_FROM_HOST, flowpb.TraceObservationPoint_FROM_STACK:
		leaving = true
	case flowpb.TraceObservationPoint_TO_ENDPOINT, flowpb.TraceObservationPoint_FROM_NETWORK,
		flowpb.TraceObservationPoint_FROM_OVERLAY, flowpb.TraceObservationPoint_TO_HOST:
		leaving = false
	default:
		return flowpb.TrafficDirection_TRAFFIC_DIRECTION_UNKNOWN
	}
	if leaving != reply {
		return flowpb.TrafficDirection_EGRESS
	}
	return flowpb.TrafficDirection_INGRESS
}
