package flowview

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

func TestAggregatedFlow(t *testing.T) {
	rec := tcpRecord()
	rec.TCPFlags = record.TCPAck | record.TCPPsh
	rec.Count, rec.Bytes = 120, 180000
	var e Flow
	e.Reset(testNode(), &rec, 1)
	f := e.Flow()
	if got, want := f.GetSummary(), "TCP Flags: ACK, PSH; 120 packets, 180000 bytes"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	a := f.GetAggregate()
	if a.GetIngressFlowCount()+a.GetEgressFlowCount()+a.GetUnknownDirectionFlowCount() != 120 {
		t.Errorf("aggregate %v, want 120 packets counted", a)
	}
	switch f.GetTrafficDirection() {
	case flowpb.TrafficDirection_INGRESS:
		if a.GetIngressFlowCount() != 120 {
			t.Errorf("ingress flow counted as %v", a)
		}
	case flowpb.TrafficDirection_EGRESS:
		if a.GetEgressFlowCount() != 120 {
			t.Errorf("egress flow counted as %v", a)
		}
	}

	// A report of one packet looks like Hubble's flow for it.
	rec.Count, rec.Bytes = 0, 1500
	e.Reset(testNode(), &rec, 2)
	if f := e.Flow(); f.GetSummary() != "TCP Flags: ACK, PSH" || f.GetAggregate() != nil {
		t.Errorf("single-packet flow summary %q aggregate %v", f.GetSummary(), f.GetAggregate())
	}
}
