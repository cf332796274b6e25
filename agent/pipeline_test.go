package agent

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/l7"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/ringbuffer"
)

// TestPipelineReleasesL7Details: an L7 record's details stay while the
// record is in the ring and are let go when the ring overwrites it.
func TestPipelineReleasesL7Details(t *testing.T) {
	ring, err := ringbuffer.New[record.Record](3)
	if err != nil {
		t.Fatal(err)
	}
	store, err := l7.NewStore(int(ring.Cap()))
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline{ring: ring, namespaces: observer.NewNamespaceTracker(), endpoints: intern.NewTable[*flowpb.Endpoint](), l7: store}
	var rec record.Record
	store.Record(&record.Record{Kind: record.KindTrace}, &flowpb.Layer7{Record: &flowpb.Layer7_Dns{Dns: &flowpb.DNS{Query: "a.example."}}}, &rec)
	p.store(&rec)
	for i := range 4 {
		if store.Get(rec.Ext) == nil {
			t.Fatalf("details gone after %d more records, while the L7 record is in the ring", i)
		}
		p.store(&record.Record{Kind: record.KindTrace})
	}
	if got := store.Get(rec.Ext); got != nil {
		t.Fatalf("details of an overwritten record kept: %v", got)
	}
}
