package flowview

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

func TestDirection(t *testing.T) {
	const (
		egress  = flowpb.TrafficDirection_EGRESS
		ingress = flowpb.TrafficDirection_INGRESS
		unknown = flowpb.TrafficDirection_TRAFFIC_DIRECTION_UNKNOWN
	)
	for point, want := range map[flowpb.TraceObservationPoint]flowpb.TrafficDirection{
		flowpb.TraceObservationPoint_FROM_ENDPOINT: egress,
		flowpb.TraceObservationPoint_TO_NETWORK:    egress,
		flowpb.TraceObservationPoint_TO_OVERLAY:    egress,
		flowpb.TraceObservationPoint_TO_STACK:      egress,
		flowpb.TraceObservationPoint_FROM_HOST:     egress,
		// A retransmission leaves the local stack: a client's SYN again.
		flowpb.TraceObservationPoint_FROM_STACK:   egress,
		flowpb.TraceObservationPoint_TO_ENDPOINT:  ingress,
		flowpb.TraceObservationPoint_FROM_NETWORK: ingress,
		flowpb.TraceObservationPoint_FROM_OVERLAY: ingress,
		flowpb.TraceObservationPoint_TO_HOST:      ingress,
		flowpb.TraceObservationPoint_TO_PROXY:     unknown,
	} {
		rec := tcpRecord()
		rec.ObsPoint = uint8(point)
		rec.SetReply(false)
		if got := Direction(&rec); got != want {
			t.Errorf("%v request: %v, want %v", point, got, want)
		}
		rec.SetReply(true)
		flipped := map[flowpb.TrafficDirection]flowpb.TrafficDirection{egress: ingress, ingress: egress, unknown: unknown}[want]
		if got := Direction(&rec); got != flipped {
			t.Errorf("%v reply: %v, want %v", point, got, flipped)
		}
	}
	rec := record.Record{ObsPoint: uint8(flowpb.TraceObservationPoint_FROM_ENDPOINT)}
	if got := Direction(&rec); got != unknown {
		t.Errorf("untracked: %v, want unknown", got)
	}
}
