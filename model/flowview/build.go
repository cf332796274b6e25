package flowview

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/foveanet/fovea/model/record"
)

// Hubble event types (flow.CiliumEventType.Type) a record maps to.
const (
	EventTypeDrop  = 1
	EventTypeTrace = 4
	EventTypeL7    = 129
)

// EventType is the Hubble event type and sub-type of a record
// (flow.CiliumEventType); ok is false for a record that is not a flow.
func EventType(r *record.Record) (typ, subType int32, ok bool) {
	switch r.Kind {
	case record.KindTrace:
		return EventTypeTrace, traceSubType(r.ObsPoint), true
	case record.KindDrop:
		return EventTypeDrop, int32(r.DropReason), true
	case record.KindL7:
		return EventTypeL7, 0, true
	}
	return 0, 0, false
}

func build(e *Flow) *flowpb.Flow {
	r := &e.Rec
	f := &flowpb.Flow{
		Time:             timestamppb.New(timeOf(e)),
		Uuid:             uuidOf(e.node.BootID, e.Seq),
		Emitter:          e.node.emitter,
		Verdict:          flowpb.Verdict(r.Verdict),
		IP:               buildIP(r),
		L4:               buildL4(r),
		Source:           e.SrcEndpoint(),
		Destination:      e.DstEndpoint(),
		Type:             flowpb.FlowType_L3_L4,
		NodeName:         e.node.absolute,
		NodeLabels:       e.node.LabelsAt(r.Time),
		SourceNames:      e.SrcNames(),
		DestinationNames: e.DstNames(),
		TrafficDirection: Direction(r),
		Interface:        e.Interface(),
		Summary:          Summary(r),
	}
	if ep := e.node.Tables.Services.Get(r.SrcService); ep != nil {
		f.SourceService = ep
	}
	if ep := e.node.Tables.Services.Get(r.DstService); ep != nil {
		f.DestinationService = ep
	}
	if reply, known := r.Reply(); known {
		f.IsReply = wrapperspb.Bool(reply)
		f.Reply = reply
	}
	if typ, sub, ok := EventType(r); ok {
		f.EventType = &flowpb.CiliumEventType{Type: typ, SubType: sub}
	}
	switch r.Kind {
	case record.KindTrace:
		f.TraceObservationPoint = flowpb.TraceObservationPoint(r.ObsPoint)
		f.IP.Encrypted = r.Flags&record.FlagEncrypted != 0
		if r.Retransmit {
			f.Summary = RetransmissionSummary(r)
		}
		if Aggregated(r) {
			f.Summary = AggregateSummary(r)
			f.Aggregate = buildAggregate(r, f.TrafficDirection)
		}
		if r.Flags&record.FlagSNAT != 0 {
			if names := e.node.Tables.Names.Get(r.Ext); len(names) == 1 {
				f.IP.SourceXlated = names[0]
			}
		} else {
			f.Tunnel = buildTunnel(e)
		}
	case record.KindDrop:
		f.DropReason = uint32(r.DropReason)
		f.DropReasonDesc = flowpb.DropReason(r.DropReason)
		if names := e.node.Tables.Names.Get(r.Ext); len(names) == 1 {
			f.Summary = DropSummary(r, names[0])
		}
	case record.KindL7:
		f.Type = flowpb.FlowType_L7
		buildL7(e, f)
	}
	return f
}

func buildIP(r *record.Record) *flowpb.IP {
	ip := &flowpb.IP{
		Source:      r.SrcAddr().String(),
		Destination: r.DstAddr().String(),
		IpVersion:   flowpb.IPVersion_IPv4,
	}
	if r.IsIPv6() {
		ip.IpVersion = flowpb.IPVersion_IPv6
	}
	return ip
}

func buildL4(r *record.Record) *flowpb.Layer4 {
	sp, dp := uint32(r.SrcPort), uint32(r.DstPort)
	switch r.Proto {
	case record.ProtoTCP:
		return &flowpb.Layer4{Protocol: &flowpb.Layer4_TCP{TCP: &flowpb.TCP{
			SourcePort: sp, DestinationPort: dp, Flags: tcpFlags(r.TCPFlags),
		}}}
	case record.ProtoUDP:
		return &flowpb.Layer4{Protocol: &flowpb.Layer4_UDP{UDP: &flowpb.UDP{SourcePort: sp, DestinationPort: dp}}}
	case record.ProtoSCTP:
		return &flowpb.Layer4{Protocol: &flowpb.Layer4_SCTP{SCTP: &flowpb.SCTP{SourcePort: sp, DestinationPort: dp}}}
	case record.ProtoICMP:
		return &flowpb.Layer4{Protocol: &flowpb.Layer4_ICMPv4{ICMPv4: &flowpb.ICMPv4{
			Type: uint32(r.ICMPType), Code: uint32(r.ICMPCode),
		}}}
	case record.ProtoICMPv6:
		return &flowpb.Layer4{Protocol: &flowpb.Layer4_ICMPv6{ICMPv6: &flowpb.ICMPv6{
			Type: uint32(r.ICMPType), Code: uint32(r.ICMPCode),
		}}}
	}
	return nil
}

func tcpFlags(b uint16) *flowpb.TCPFlags {
	return &flowpb.TCPFlags{
		FIN: b&record.TCPFin != 0, SYN: b&record.TCPSyn != 0, RST: b&record.TCPRst != 0,
		PSH: b&record.TCPPsh != 0, ACK: b&record.TCPAck != 0, URG: b&record.TCPUrg != 0,
		ECE: b&record.TCPEce != 0, CWR: b&record.TCPCwr != 0, NS: b&record.TCPNs != 0,
	}
}

func buildLost(e *Flow) *flowpb.LostEvent {
	t := timestamppb.New(timeOf(e))
	return &flowpb.LostEvent{
		Source:        flowpb.LostEventSource(e.Rec.LostSource),
		NumEventsLost: uint64(max(e.Rec.Count, 1)),
		First:         t,
		Last:          t,
	}
}

// traceSubType is the event sub-type of a trace seen at obsPoint: Cilium's
// monitor code, which equals the TraceObservationPoint value except for
// TO_ENDPOINT, numbered 101 in the enum (its 0 is UNKNOWN) but 0 on the wire
// that `hubble observe --type trace:to-endpoint` matches.
func traceSubType(obsPoint uint8) int32 {
	if flowpb.TraceObservationPoint(obsPoint) == flowpb.TraceObservationPoint_TO_ENDPOINT {
		return 0
	}
	return int32(obsPoint)
}
