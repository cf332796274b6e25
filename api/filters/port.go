package filters

import (
	"fmt"
	"slices"
	"strconv"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

func buildPort(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	var fs []Func
	if v := ff.GetSourcePort(); len(v) > 0 {
		ports, err := parsePorts("source_port", v)
		if err != nil {
			return nil, err
		}
		fs = append(fs, func(e *flowview.Flow) bool { return hasPorts(e) && slices.Contains(ports, e.Rec.SrcPort) })
	}
	if v := ff.GetDestinationPort(); len(v) > 0 {
		ports, err := parsePorts("destination_port", v)
		if err != nil {
			return nil, err
		}
		fs = append(fs, func(e *flowview.Flow) bool { return hasPorts(e) && slices.Contains(ports, e.Rec.DstPort) })
	}
	return fs, nil
}

func parsePorts(field string, v []string) ([]uint16, error) {
	ports := make([]uint16, 0, len(v))
	for _, s := range v {
		p, err := strconv.ParseUint(s, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%s: invalid port %s: want a number from 0 to 65535", field, quoted(s))
		}
		ports = append(ports, uint16(p))
	}
	return ports, nil
}

// hasPorts reports whether the event's L4 protocol has ports (TCP, UDP,
// SCTP); Hubble's port filters never match other protocols.
func hasPorts(e *flowview.Flow) bool {
	if e.IsLost() {
		return false
	}
	switch e.Rec.Proto {
	case record.ProtoTCP, record.ProtoUDP, record.ProtoSCTP:
		return true
	}
	return false
}
