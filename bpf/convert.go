package bpf

import (
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/packet"
	"github.com/foveanet/fovea/model/record"
)

// obsPoint maps an attachment's role and direction to Hubble's
// observation point.
func obsPoint(r role, d Direction) flowpb.TraceObservationPoint {
	switch {
	case r == roleEndpoint && d == Ingress:
		return flowpb.TraceObservationPoint_FROM_ENDPOINT
	case r == roleEndpoint:
		return flowpb.TraceObservationPoint_TO_ENDPOINT
	case r == roleOverlay && d == Ingress:
		return flowpb.TraceObservationPoint_FROM_OVERLAY
	case r == roleOverlay:
		return flowpb.TraceObservationPoint_TO_OVERLAY
	case d == Ingress:
		return flowpb.TraceObservationPoint_FROM_NETWORK
	default:
		return flowpb.TraceObservationPoint_TO_NETWORK
	}
}

// fillRecord writes ev into rec as a forwarded trace. bootToUnix is added to
// the event's boot-clock time to get Unix nanoseconds.
func (ev *KernelEvent) fillRecord(rec *record.Record, bootToUnix int64, r role, iface intern.Ref) {
	*rec = record.Record{
		Time:     int64(ev.BootNs) + bootToUnix,
		Kind:     record.KindTrace,
		Verdict:  uint8(flowpb.Verdict_FORWARDED),
		ObsPoint: uint8(obsPoint(r, ev.Dir)),
		Iface:    iface,
		Bytes:    ev.Len,
	}
	if ev.Packets > 1 {
		rec.Count = ev.Packets
	}
	rec.Detail = uint32(ev.Handshake / time.Microsecond)
	if ev.ReplyKnown {
		rec.SetReply(ev.Reply)
	}
	h := packet.Headers{
		Src: ev.Src, Dst: ev.Dst, Proto: ev.Proto, HasL4: ev.HasL4,
		SrcPort: ev.SrcPort, DstPort: ev.DstPort, TCPFlags: ev.TCPFlags,
		ICMPType: ev.ICMPType, ICMPCode: ev.ICMPCode,
	}
	h.Fill(rec)
}

// fillDrop writes a KindDrop event into rec as a Hubble drop (event type 1):
// verdict DROPPED, the Hubble reason hubble, and the kernel's reason code
// with its interned name nameRef. Drops have no observation point.
func (ev *KernelEvent) fillDrop(rec *record.Record, bootToUnix int64, iface intern.Ref, hubble flowpb.DropReason, nameRef intern.Ref) {
	ev.fillRecord(rec, bootToUnix, roleNetwork, iface)
	rec.Kind = record.KindDrop
	rec.Verdict = uint8(flowpb.Verdict_DROPPED)
	rec.ObsPoint = uint8(flowpb.TraceObservationPoint_UNKNOWN_POINT)
	rec.DropReason = uint16(hubble)
	rec.Detail = ev.DropReason
	rec.Ext = nameRef
	if ev.Dir == Egress {
		rec.Flags |= record.FlagSent
	}
}

// fillRetransmit writes a KindRetransmit event into rec as a trace from the
// local stack (FROM_STACK, which the capture program never reports, so
// `hubble observe --type trace:from-stack` selects exactly the
// retransmissions) marked Retransmit.
func (ev *KernelEvent) fillRetransmit(rec *record.Record, bootToUnix int64, iface intern.Ref) {
	ev.fillRecord(rec, bootToUnix, roleNetwork, iface)
	rec.ObsPoint = uint8(flowpb.TraceObservationPoint_FROM_STACK)
	rec.Retransmit = true
}
