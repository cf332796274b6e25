package agent

import (
	"fmt"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func agentStarted(t time.Time) *flowpb.AgentEvent {
	return &flowpb.AgentEvent{
		Type:         flowpb.AgentEventType_AGENT_STARTED,
		Notification: &flowpb.AgentEvent_AgentStart{AgentStart: &flowpb.TimeNotification{Time: timestamppb.New(t)}},
	}
}

// Hubble's AgentEventType has no value for stopping or for interfaces, so
// these travel as AgentEventUnknown with a descriptive type, as Hubble does
// for events it has no type for.
func agentStopping() *flowpb.AgentEvent {
	return unknownAgentEvent("agent_stopping", "")
}

func interfaceEvent(name string, index int, attached bool) *flowpb.AgentEvent {
	typ := "interface_detached"
	if attached {
		typ = "interface_attached"
	}
	return unknownAgentEvent(typ, fmt.Sprintf("%s (ifindex %d)", name, index))
}

func unknownAgentEvent(typ, notification string) *flowpb.AgentEvent {
	return &flowpb.AgentEvent{
		Type: flowpb.AgentEventType_AGENT_EVENT_UNKNOWN,
		Notification: &flowpb.AgentEvent_Unknown{Unknown: &flowpb.AgentEventUnknown{
			Type: typ, Notification: notification,
		}},
	}
}
