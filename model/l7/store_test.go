package l7_test

import (
	"strings"
	"sync"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/l7"
)

func dnsQuery(q string) *flowpb.Layer7 {
	return &flowpb.Layer7{Record: &flowpb.Layer7_Dns{Dns: &flowpb.DNS{Query: q}}}
}

func TestStoreCapacity(t *testing.T) {
	for _, c := range []struct{ in, want int }{{1, 1}, {3, 4}, {4, 4}, {4095, 4096}, {65535, 65536}} {
		s, err := l7.NewStore(c.in)
		if err != nil {
			t.Fatalf("NewStore(%d): %v", c.in, err)
		}
		if s.Cap() != c.want {
			t.Errorf("NewStore(%d).Cap() = %d, want %d", c.in, s.Cap(), c.want)
		}
	}
	for _, bad := range []int{0, -1, l7.MaxCapacity + 1} {
		if _, err := l7.NewStore(bad); err == nil {
			t.Errorf("NewStore(%d) succeeded, want an error", bad)
		}
	}
}

func TestStoreDetectsOverwrittenRefs(t *testing.T) {
	s, err := l7.NewStore(4)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Get(0); got != nil {
		t.Fatalf("Get(0) = %v, want nil", got)
	}
	var refs []intern.Ref
	for i := range 6 {
		refs = append(refs, s.Put(dnsQuery(strings.Repeat("a", i+1))))
	}
	for i, ref := range refs {
		got := s.Get(ref)
		if i < 2 {
			if got != nil {
				t.Errorf("Get(ref %d) = %v after it was overwritten, want nil", i, got)
			}
			continue
		}
		if q := got.GetDns().GetQuery(); q != strings.Repeat("a", i+1) {
			t.Errorf("Get(ref %d) query = %q, want %q", i, q, strings.Repeat("a", i+1))
		}
	}
	if got := s.Get(intern.Ref(1000)); got != nil {
		t.Errorf("Get of a never-issued ref = %v, want nil", got)
	}
	const want = `
# HELP l7_details_expired_total Lookups of L7 details that had been overwritten: the flow was served without its L7 fields.
# TYPE l7_details_expired_total counter
l7_details_expired_total 3
# HELP l7_details_stored_total L7 details (e.g. DNS messages) stored for flows.
# TYPE l7_details_stored_total counter
l7_details_stored_total 6
`
	if err := testutil.CollectAndCompare(s.Collector(), strings.NewReader(want),
		"l7_details_expired_total", "l7_details_stored_total"); err != nil {
		t.Error(err)
	}
}

// TestStoreConcurrentReaders runs readers against the writer under -race.
func TestStoreConcurrentReaders(t *testing.T) {
	s, err := l7.NewStore(16)
	if err != nil {
		t.Fatal(err)
	}
	l := dnsQuery("x.")
	var last intern.Ref
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				for r := range intern.Ref(64) {
					if got := s.Get(r); got != nil && got != l {
						t.Errorf("Get(%d) returned foreign details", r)
						return
					}
				}
			}
		})
	}
	for range 10000 {
		last = s.Put(l)
	}
	close(done)
	wg.Wait()
	if s.Get(last) != l {
		t.Error("the last Put is not readable")
	}
}

// TestStoreRelease: released details are gone, and releasing a reference
// whose slot newer details took leaves those alone.
func TestStoreRelease(t *testing.T) {
	s, err := l7.NewStore(2)
	if err != nil {
		t.Fatal(err)
	}
	a := s.Put(dnsQuery("a.example."))
	b := s.Put(dnsQuery("b.example."))
	s.Release(a)
	if got := s.Get(a); got != nil {
		t.Errorf("released details still there: %v", got)
	}
	c := s.Put(dnsQuery("c.example.")) // a's slot
	s.Release(a)
	if got := s.Get(c).GetDns().GetQuery(); got != "c.example." {
		t.Errorf("releasing an overwritten reference dropped the newer details: %q", got)
	}
	if got := s.Get(b).GetDns().GetQuery(); got != "b.example." {
		t.Errorf("unreleased details %q", got)
	}
}
