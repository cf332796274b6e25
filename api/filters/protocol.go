package filters

import (
	"fmt"
	"strings"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

// IANA numbers of L4 protocols Hubble decodes beyond those the record
// package names.
const (
	protoIGMP uint8 = 2
	protoVRRP uint8 = 112
)

// l4Protocols maps protocol filter names to the IANA numbers they match.
var l4Protocols = map[string][]uint8{
	"icmp":   {record.ProtoICMP, record.ProtoICMPv6},
	"icmpv4": {record.ProtoICMP},
	"icmpv6": {record.ProtoICMPv6},
	"tcp":    {record.ProtoTCP},
	"udp":    {record.ProtoUDP},
	"sctp":   {record.ProtoSCTP},
	"vrrp":   {protoVRRP},
	"igmp":   {protoIGMP},
}

// protocolSet is the compiled protocol filter: a bitmap of L4 protocol
// numbers and the L7 protocols wanted.
type protocolSet struct {
	l4        [256 / 64]uint64
	dns, http bool
}

func buildProtocol(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	v := ff.GetProtocol()
	if len(v) == 0 {
		return nil, nil
	}
	s := &protocolSet{}
	for _, p := range v {
		name := strings.ToLower(p)
		switch name {
		case "dns":
			s.dns = true
		case "http":
			s.http = true
		default:
			nums, ok := l4Protocols[name]
			if !ok {
				return nil, fmt.Errorf("protocol: unknown protocol %s (want one of tcp, udp, sctp, icmp, icmpv4, icmpv6, vrrp, igmp, dns, http)", quoted(p))
			}
			for _, n := range nums {
				s.l4[n/64] |= 1 << (n % 64)
			}
		}
	}
	l7 := s.l7Func()
	return []Func{func(e *flowview.Flow) bool {
		if e.IsLost() {
			return false
		}
		if p := e.Rec.Proto; s.l4[p/64]&(1<<(p%64)) != 0 {
			return true
		}
		return l7 != nil && l7(e)
	}}, nil
}

// l7Func matches the L7 protocols of the set, or is nil if it has none.
func (s *protocolSet) l7Func() Func {
	if !s.dns && !s.http {
		return nil
	}
	return onL7Flow(s.matchL7)
}

func (s *protocolSet) matchL7(f *flowpb.Flow) bool {
	l7 := f.GetL7()
	return (s.dns && l7.GetDns() != nil) || (s.http && l7.GetHttp() != nil)
}
