package filters

import (
	"sync"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
)

func TestRefCache(t *testing.T) {
	var c refCache
	t1, t2 := intern.NewTables(), intern.NewTables()
	if _, ok := c.lookup(t1, 5); ok {
		t.Fatal("empty cache hit")
	}
	c.store(t1, 5, true)
	c.store(t1, 6, false)
	if m, ok := c.lookup(t1, 5); !ok || !m {
		t.Fatalf("ref 5: %v %v", m, ok)
	}
	if m, ok := c.lookup(t1, 6); !ok || m {
		t.Fatalf("ref 6: %v %v", m, ok)
	}
	// A colliding ref evicts, never aliases.
	c.store(t1, 5+refCacheSlots, false)
	if _, ok := c.lookup(t1, 5); ok {
		t.Fatal("evicted ref still answered")
	}
	if m, ok := c.lookup(t1, 5+refCacheSlots); !ok || m {
		t.Fatalf("colliding ref: %v %v", m, ok)
	}
	// Other tables bypass the cache.
	c.store(t2, 6, true)
	if _, ok := c.lookup(t2, 6); ok {
		t.Fatal("foreign tables cached")
	}
	if m, _ := c.lookup(t1, 6); m {
		t.Fatal("foreign tables overwrote an answer")
	}
}

// TestCachedFiltersAcrossNodes checks that answers cached for one node's
// tables are not reused for another node whose refs mean other values.
func TestCachedFiltersAcrossNodes(t *testing.T) {
	f := mustBuild(t, &flowpb.FlowFilter{
		SourceLabel:     []string{"k8s:app=web"},
		DestinationFqdn: []string{"*.example.com"},
		NodeName:        []string{"prod/node-1"},
	})
	n1, n2 := testNode(), flowview.NewNode("node-2", "prod", "", nil, intern.NewTables())
	match := ev{srcEP: &flowpb.Endpoint{Labels: []string{"k8s:app=web"}}, dstNames: []string{"a.example.com"}}
	other := ev{srcEP: &flowpb.Endpoint{Labels: []string{"k8s:app=db"}}, dstNames: []string{"a.example.org"}}
	for range 2 {
		if !f(match.build(n1)) {
			t.Fatal("node 1 event does not match")
		}
		if f(other.build(n1)) || f(match.build(n2)) || f(other.build(n2)) {
			t.Fatal("cached answer leaked")
		}
	}
}

func TestCachedFiltersConcurrent(t *testing.T) {
	f := mustBuild(t, &flowpb.FlowFilter{SourceLabel: []string{"k8s:app=web"}, DestinationFqdn: []string{"*.example.com"}})
	n := testNode()
	events := make([]*flowview.Flow, 64)
	want := make([]bool, len(events))
	for i := range events {
		app, name := "db", "x.example.org"
		if i%3 == 0 {
			app, name = "web", "x.example.com"
		}
		events[i] = ev{srcEP: &flowpb.Endpoint{Labels: []string{"k8s:app=" + app}}, dstNames: []string{name}}.build(n)
		want[i] = i%3 == 0
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				for i, e := range events {
					if f(e) != want[i] {
						t.Errorf("event %d: wrong answer", i)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
