package filters

import (
	"slices"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

func buildEncrypted(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	want := slices.Clone(ff.GetEncrypted())
	if len(want) == 0 {
		return nil, nil
	}
	return []Func{onFlow(encryptedIn(want))}, nil
}

func encryptedIn(want []bool) flowFunc {
	return func(f *flowpb.Flow) bool { return f != nil && slices.Contains(want, f.GetIP().GetEncrypted()) }
}
