package filters

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
)

type ifacePattern struct {
	index uint32
	name  string
}

// buildInterface matches the interface a packet was seen on; a zero index
// or empty name in an entry matches any.
func buildInterface(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	v := ff.GetInterface()
	if len(v) == 0 {
		return nil, nil
	}
	patterns := make([]ifacePattern, len(v))
	for i, x := range v {
		patterns[i] = ifacePattern{index: x.GetIndex(), name: x.GetName()}
	}
	return []Func{func(e *flowview.Flow) bool {
		if e.IsLost() {
			return false
		}
		return ifaceIn(e.Interface(), patterns)
	}}, nil
}

func ifaceIn(iface *flowpb.NetworkInterface, patterns []ifacePattern) bool {
	if iface == nil {
		return false
	}
	for _, p := range patterns {
		if (p.index == 0 || p.index == iface.GetIndex()) && (p.name == "" || p.name == iface.GetName()) {
			return true
		}
	}
	return false
}
