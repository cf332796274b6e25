package flowview

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/foveanet/fovea/model/record"
)

// Hubble event types (flow.CiliumEventType.Type) a record maps to.
const (
	EventTypeDrop          = 1
	EventTypeTrace         = 4
	EventTypePolicyVerdict = 5
	EventTypeL7            = 129
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
	case record.KindPolicyVerdict:
		return EventTypePolicyVerdict, 0, true
	}
	return 0, 0, false
}

func build(e *Flow) *flowpb.Flow {
	r := &e.Rec
	m := new(messages)
	strs := stringsBuf{b: make([]byte, 0, flowStringsLen)}
	t := timeOf(e)
	m.time.Seconds, m.time.Nanos = t.Unix(), int32(t.Nanosecond())
	f := &m.flow
	*f = flowpb.Flow{
		Time:             &m.time,
		Uuid:             strs.add(func(b []byte) []byte { return appendUUID(b, e.node.BootID, e.Seq) }),
		Emitter:          e.node.emitter,
		Verdict:          flowpb.Verdict(r.Verdict),
		IP:               buildIP(r, &m.ip, &strs),
		L4:               buildL4(r, m),
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
		m.isReply.Value = reply
		f.IsReply = &m.isReply
		f.Reply = reply
	}
	if typ, sub, ok := EventType(r); ok {
		m.eventType.Type, m.eventType.SubType = typ, sub
		f.EventType = &m.eventType
	}
	switch r.Kind {
	case record.KindTrace:
		f.TraceObservationPoint = flowpb.TraceObservationPoint(r.ObsPoint)
		f.IP.Encrypted = r.Flags&record.FlagEncrypted != 0
		if r.Retransmit {
			f.Summary = RetransmissionSummary(r)
		} else if r.Handshake() > 0 {
			f.Summary = HandshakeSummary(r)
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
		if r.Policy != 0 {
			buildPolicies(e, f, r.Flags&record.FlagPolicyDenied != 0)
			if r.Flags&record.FlagPolicyDenied == 0 {
				f.Summary += NotPolicyDropSummary
			}
		}
	case record.KindPolicyVerdict:
		buildPolicyVerdict(e, f)
	case record.KindL7:
		f.Type = flowpb.FlowType_L7
		buildL7(e, f)
	}
	return f
}

func buildIP(r *record.Record, ip *flowpb.IP, strs *stringsBuf) *flowpb.IP {
	ip.Source = strs.add(r.SrcAddr().AppendTo)
	ip.Destination = strs.add(r.DstAddr().AppendTo)
	ip.IpVersion = flowpb.IPVersion_IPv4
	if r.IsIPv6() {
		ip.IpVersion = flowpb.IPVersion_IPv6
	}
	return ip
}

func buildL4(r *record.Record, m *messages) *flowpb.Layer4 {
	sp, dp := uint32(r.SrcPort), uint32(r.DstPort)
	switch r.Proto {
	case record.ProtoTCP:
		m.tcpM.SourcePort, m.tcpM.DestinationPort, m.tcpM.Flags = sp, dp, tcpFlagMessages[r.TCPFlags&tcpFlagMask]
		m.tcp.TCP = &m.tcpM
		m.l4.Protocol = &m.tcp
	case record.ProtoUDP:
		m.udpM.SourcePort, m.udpM.DestinationPort = sp, dp
		m.udp.UDP = &m.udpM
		m.l4.Protocol = &m.udp
	case record.ProtoSCTP:
		m.sctpM.SourcePort, m.sctpM.DestinationPort = sp, dp
		m.sctp.SCTP = &m.sctpM
		m.l4.Protocol = &m.sctp
	case record.ProtoICMP:
		m.icmpM.Type, m.icmpM.Code = uint32(r.ICMPType), uint32(r.ICMPCode)
		m.icmp4.ICMPv4 = &m.icmpM
		m.l4.Protocol = &m.icmp4
	case record.ProtoICMPv6:
		m.icmp6M.Type, m.icmp6M.Code = uint32(r.ICMPType), uint32(r.ICMPCode)
		m.icmp6.ICMPv6 = &m.icmp6M
		m.l4.Protocol = &m.icmp6
	default:
		return nil
	}
	return &m.l4
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
