package flowview

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

func TestDropFlowKernelReason(t *testing.T) {
	node := testNode()
	rec := tcpRecord()
	rec.TCPFlags = record.TCPSyn
	rec.Kind, rec.Verdict, rec.ObsPoint = record.KindDrop, uint8(flowpb.Verdict_DROPPED), 0
	rec.DropReason = uint16(flowpb.DropReason_POLICY_DENIED)
	rec.Detail = 12
	rec.Ext = node.Tables.Names.Intern("skb_drop_reason/NETFILTER_DROP", func() []string { return []string{"NETFILTER_DROP"} })
	var e Flow
	e.Reset(node, &rec, 1)
	f := e.Flow()
	if got, want := f.GetSummary(), "TCP Flags: SYN; kernel drop reason: NETFILTER_DROP"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if f.GetVerdict() != flowpb.Verdict_DROPPED || f.GetEventType().GetType() != EventTypeDrop ||
		f.GetEventType().GetSubType() != int32(flowpb.DropReason_POLICY_DENIED) {
		t.Errorf("drop flow = %v", f)
	}
}

func TestRetransmissionFlow(t *testing.T) {
	rec := tcpRecord()
	rec.TCPFlags = record.TCPAck | record.TCPPsh
	rec.ObsPoint = uint8(flowpb.TraceObservationPoint_FROM_STACK)
	rec.Retransmit = true
	var e Flow
	e.Reset(testNode(), &rec, 1)
	f := e.Flow()
	if got, want := f.GetSummary(), "TCP Retransmission, Flags: ACK, PSH"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if f.GetEventType().GetType() != EventTypeTrace || f.GetEventType().GetSubType() != int32(flowpb.TraceObservationPoint_FROM_STACK) ||
		!f.GetL4().GetTCP().GetFlags().GetPSH() {
		t.Errorf("retransmission flow = %v", f)
	}
}
