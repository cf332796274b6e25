package filters

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

func TestUUID(t *testing.T) {
	checkFlows(t, uuidIn([]string{"a", "b"}), []flowCase{
		{"match", &flowpb.Flow{Uuid: "b"}, true},
		{"other", &flowpb.Flow{Uuid: "c"}, false},
		{"nil", nil, false},
	})
}

func TestTraceIDs(t *testing.T) {
	tc := func(id string) *flowpb.Flow {
		return &flowpb.Flow{TraceContext: &flowpb.TraceContext{Parent: &flowpb.TraceParent{TraceId: id}}}
	}
	checkFlows(t, traceIDIn([]string{"abc"}), []flowCase{
		{"match", tc("abc"), true},
		{"other", tc("abd"), false},
		{"none", &flowpb.Flow{}, false},
	})
	checkFlows(t, ipTraceIDIn([]uint64{7}), []flowCase{
		{"match", &flowpb.Flow{IpTraceId: &flowpb.IPTraceID{TraceId: 7}}, true},
		{"none", &flowpb.Flow{}, false},
	})
}

func TestEncrypted(t *testing.T) {
	checkFlows(t, encryptedIn([]bool{true}), []flowCase{
		{"encrypted", &flowpb.Flow{IP: &flowpb.IP{Encrypted: true}}, true},
		{"plain", &flowpb.Flow{IP: &flowpb.IP{}}, false},
	})
	checkFlows(t, encryptedIn([]bool{false}), []flowCase{
		{"no IP counts as plain", &flowpb.Flow{}, true},
		{"nil", nil, false},
	})
}

func TestTrafficDirection(t *testing.T) {
	checkFlows(t, trafficDirectionIn([]flowpb.TrafficDirection{flowpb.TrafficDirection_EGRESS}), []flowCase{
		{"egress", &flowpb.Flow{TrafficDirection: flowpb.TrafficDirection_EGRESS}, true},
		{"ingress", &flowpb.Flow{TrafficDirection: flowpb.TrafficDirection_INGRESS}, false},
		{"nil", nil, false},
	})
}
