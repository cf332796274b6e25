package filters

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

// buildTCPFlags matches TCP packets having every flag of at least one entry.
func buildTCPFlags(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	v := ff.GetTcpFlags()
	if len(v) == 0 {
		return nil, nil
	}
	masks := make([]uint16, len(v))
	for i, f := range v {
		masks[i] = tcpFlagMask(f)
	}
	return []Func{func(e *flowview.Flow) bool {
		if !hasTCPFlags(e) {
			return false
		}
		for _, m := range masks {
			if e.Rec.TCPFlags&m == m {
				return true
			}
		}
		return false
	}}, nil
}

// hasTCPFlags reports whether the event's flow carries TCP flags, as every
// TCP flow the agent builds does.
func hasTCPFlags(e *flowview.Flow) bool {
	return !e.IsLost() && e.Rec.Proto == record.ProtoTCP
}

func tcpFlagMask(f *flowpb.TCPFlags) uint16 {
	var m uint16
	for _, b := range []struct {
		set bool
		bit uint16
	}{
		{f.GetFIN(), record.TCPFin},
		{f.GetSYN(), record.TCPSyn},
		{f.GetRST(), record.TCPRst},
		{f.GetPSH(), record.TCPPsh},
		{f.GetACK(), record.TCPAck},
		{f.GetURG(), record.TCPUrg},
		{f.GetECE(), record.TCPEce},
		{f.GetCWR(), record.TCPCwr},
		{f.GetNS(), record.TCPNs},
	} {
		if b.set {
			m |= b.bit
		}
	}
	return m
}
