package filters

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
)

func buildService(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	var fs []Func
	if v := ff.GetSourceService(); len(v) > 0 {
		p, err := parseNamespacedNames("source_service", "service", v)
		if err != nil {
			return nil, err
		}
		fs = append(fs, func(e *flowview.Flow) bool { return serviceIn(e, e.Rec.SrcService, p) })
	}
	if v := ff.GetDestinationService(); len(v) > 0 {
		p, err := parseNamespacedNames("destination_service", "service", v)
		if err != nil {
			return nil, err
		}
		fs = append(fs, func(e *flowview.Flow) bool { return serviceIn(e, e.Rec.DstService, p) })
	}
	return fs, nil
}

// serviceIn looks the record's service up in the intern table the flow's
// source_service/destination_service come from.
func serviceIn(e *flowview.Flow, ref intern.Ref, patterns []namespacedName) bool {
	if e.IsLost() || ref == 0 {
		return false
	}
	svc := e.Node().Tables.Services.Get(ref)
	return matchNamespacedName(patterns, svc.GetNamespace(), svc.GetName())
}
