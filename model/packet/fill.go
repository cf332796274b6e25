package packet

import "github.com/foveanet/fovea/model/record"

// Fill writes h's addresses, protocol and L4 fields into rec, leaving its
// other fields as they are.
func (h *Headers) Fill(rec *record.Record) {
	rec.SetAddrs(h.Src, h.Dst)
	if !h.HasL4 {
		// A protocol whose record fields come from its L4 header must not
		// be claimed without them: the flow would show ports of zero.
		if !carriesPorts(h.Proto) {
			rec.Proto = h.Proto
		}
		return
	}
	rec.Proto = h.Proto
	switch h.Proto {
	case record.ProtoICMP, record.ProtoICMPv6:
		rec.ICMPType, rec.ICMPCode = h.ICMPType, h.ICMPCode
	default:
		rec.SrcPort, rec.DstPort = h.SrcPort, h.DstPort
		if h.Proto == record.ProtoTCP {
			rec.TCPFlags = h.TCPFlags
		}
	}
}

// carriesPorts reports whether a protocol's record fields come from its L4
// header.
func carriesPorts(proto uint8) bool {
	switch proto {
	case record.ProtoTCP, record.ProtoUDP, record.ProtoSCTP, record.ProtoICMP, record.ProtoICMPv6:
		return true
	}
	return false
}
