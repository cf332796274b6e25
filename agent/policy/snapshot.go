package policy

import (
	"cmp"
	"slices"
	"sync/atomic"

	"github.com/foveanet/fovea/model/intern"
)

// Snapshot is the policies and pods of one moment, immutable once built:
// a source replaces it whole, so evaluation takes no lock.
type Snapshot struct {
	namespaced map[string][]*Policy
	// admin and baseline are the cluster policies of each tier, in
	// priority order.
	admin, baseline []*Policy
	// pods are keyed by their interned endpoint: the endpoint's content
	// (labels, namespace labels, name) is its key, so a relabelled pod is
	// another key, and the verdict cache needs no flush for it.
	pods map[intern.Ref]*Pod
	// Gen changes whenever a verdict for the same endpoints, addresses and
	// port may have changed: a policy or a pod's named ports did. The
	// verdict cache starts over when it does.
	Gen uint64
	// Policies counts the policies by kind, for metrics.
	Policies map[string]int
}

// Empty is the snapshot before the first sync: it selects no pod, so
// nothing is reported rather than a guess from a partial view.
var Empty = &Snapshot{}

// NewSnapshot builds a snapshot of policies and pods. gen must differ
// from the previous snapshot's when policies or named ports changed.
func NewSnapshot(policies []*Policy, pods map[intern.Ref]*Pod, gen uint64) *Snapshot {
	s := &Snapshot{namespaced: map[string][]*Policy{}, pods: pods, Gen: gen, Policies: map[string]int{}}
	for _, p := range policies {
		s.Policies[p.ID.Kind]++
		switch p.Tier {
		case TierAdmin:
			s.admin = append(s.admin, p)
		case TierBaseline:
			s.baseline = append(s.baseline, p)
		default:
			s.namespaced[p.Namespace] = append(s.namespaced[p.Namespace], p)
		}
	}
	// Equal priorities are ordered by name, so every agent decides alike
	// (the API leaves their order to the implementation).
	byPriority := func(a, b *Policy) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.ID.Name, b.ID.Name))
	}
	slices.SortFunc(s.admin, byPriority)
	slices.SortFunc(s.baseline, byPriority)
	return s
}

// decidesNothing reports whether the snapshot has no policy: no pod is
// isolated, and the stage need not look up a record's pods.
func (s *Snapshot) decidesNothing() bool {
	return len(s.namespaced) == 0 && len(s.admin) == 0 && len(s.baseline) == 0
}

// Pod returns the pod of an interned endpoint; nil when the endpoint is
// not a pod this snapshot knows.
func (s *Snapshot) Pod(endpoint intern.Ref) *Pod { return s.pods[endpoint] }

// Store holds the current Snapshot; readers load it with one atomic read.
type Store struct {
	cur atomic.Pointer[Snapshot]
}

// NewStore returns a store holding Empty.
func NewStore() *Store {
	s := &Store{}
	s.cur.Store(Empty)
	return s
}

// Load returns the current snapshot.
func (s *Store) Load() *Snapshot { return s.cur.Load() }

// Replace makes snap the current snapshot.
func (s *Store) Replace(snap *Snapshot) { s.cur.Store(snap) }
