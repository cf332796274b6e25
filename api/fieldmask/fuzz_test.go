package fieldmask

import (
	"strings"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// FuzzNew: any list of paths compiles or fails with an error, and a mask
// that compiles applies to a flow without panicking.
func FuzzNew(f *testing.F) {
	for _, s := range []string{"source.namespace,destination.pod_name", "l7.dns.query", "time", "source..x", "IP.source,ip"} {
		f.Add(s)
	}
	flow := &flowpb.Flow{
		Source:      &flowpb.Endpoint{Namespace: "a", PodName: "p", Labels: []string{"k8s:app=x"}},
		Destination: &flowpb.Endpoint{Namespace: "b"},
		IP:          &flowpb.IP{Source: "10.0.0.1", Destination: "10.0.0.2"},
		L7:          &flowpb.Layer7{Record: &flowpb.Layer7_Dns{Dns: &flowpb.DNS{Query: "x."}}},
	}
	f.Fuzz(func(t *testing.T, paths string) {
		m, err := New(strings.Split(paths, ",")...)
		if err != nil || m == nil {
			return
		}
		m.Apply(flow)
	})
}
