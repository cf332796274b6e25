package event

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func build(e *Event) *flowpb.Flow {
	return &flowpb.Flow{Time: timestamppb.New(timeOf(e)), NodeName: e.node.Name}
}

func buildLost(e *Event) *flowpb.LostEvent {
	return &flowpb.LostEvent{
		Source:        flowpb.LostEventSource(e.Rec.LostSource),
		NumEventsLost: uint64(max(e.Rec.Count, 1)),
	}
}
