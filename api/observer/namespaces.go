package observer

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"

	"github.com/foveanet/fovea/model/flowview"
)

const (
	// namespaceTTL is how long a namespace is listed after its last flow.
	namespaceTTL = time.Hour
	// namespaceRefresh bounds how stale a last-seen time may get: refreshing
	// it more often than this would only add writes on the hot path.
	namespaceRefresh = 5 * time.Second
)

type namespaceKey struct{ cluster, namespace string }

// NamespaceTracker remembers the namespaces seen in flows during the last
// hour. Observing a known namespace takes no lock and, most of the time,
// no write: the map is copied on insert, which is rare.
type NamespaceTracker struct {
	cluster string
	now     func() time.Time

	seen atomic.Pointer[map[namespaceKey]*atomic.Int64]
	mu   sync.Mutex // serialises copies of seen
}

var _ NamespaceSource = (*NamespaceTracker)(nil)

// NamespaceTrackerOption configures a NamespaceTracker.
type NamespaceTrackerOption func(*NamespaceTracker)

// WithNamespaceCluster sets the cluster of endpoints without a cluster name.
func WithNamespaceCluster(cluster string) NamespaceTrackerOption {
	return func(t *NamespaceTracker) { t.cluster = cluster }
}

// WithNamespaceClock replaces time.Now for expiring namespaces.
func WithNamespaceClock(now func() time.Time) NamespaceTrackerOption {
	return func(t *NamespaceTracker) { t.now = now }
}

// NewNamespaceTracker returns an empty tracker.
func NewNamespaceTracker(opts ...NamespaceTrackerOption) *NamespaceTracker {
	t := &NamespaceTracker{now: time.Now}
	for _, opt := range opts {
		opt(t)
	}
	t.seen.Store(&map[namespaceKey]*atomic.Int64{})
	return t
}

// ObserveEvent records the namespaces of a flow's endpoints at the flow's
// time.
func (t *NamespaceTracker) ObserveEvent(e *flowview.Flow) {
	if !e.IsLost() {
		t.ObserveEndpoints(e.SrcEndpoint(), e.DstEndpoint(), e.Rec.Time)
	}
}

// ObserveEndpoints records the namespaces of src and dst (either may be
// nil) at time at, in Unix nanoseconds. The agent's write path calls it
// with a record's interned endpoints, without building a flowview.Flow.
func (t *NamespaceTracker) ObserveEndpoints(src, dst *flowpb.Endpoint, at int64) {
	t.observeEndpoint(src, at)
	t.observeEndpoint(dst, at)
}

func (t *NamespaceTracker) observeEndpoint(ep *flowpb.Endpoint, at int64) {
	if ns := ep.GetNamespace(); ns != "" {
		t.observe(ep.GetClusterName(), ns, at)
	}
}

// Observe records that namespace of cluster (the tracker's own if empty)
// had a flow at time at.
func (t *NamespaceTracker) Observe(cluster, namespace string, at time.Time) {
	if namespace != "" {
		t.observe(cluster, namespace, at.UnixNano())
	}
}

func (t *NamespaceTracker) observe(cluster, namespace string, at int64) {
	if cluster == "" {
		cluster = t.cluster
	}
	key := namespaceKey{cluster, namespace}
	if last, ok := (*t.seen.Load())[key]; ok {
		if at-last.Load() > int64(namespaceRefresh) {
			last.Store(at)
		}
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.seen.Load()
	if last, ok := old[key]; ok { // added while we waited for the lock
		last.Store(max(last.Load(), at))
		return
	}
	next := make(map[namespaceKey]*atomic.Int64, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	v := &atomic.Int64{}
	v.Store(at)
	next[key] = v
	t.seen.Store(&next)
}

// Namespaces returns the namespaces seen during the last hour, sorted by
// cluster then name, and forgets older ones.
func (t *NamespaceTracker) Namespaces() []*observerpb.Namespace {
	cutoff := t.now().Add(-namespaceTTL).UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.seen.Load()
	kept := make(map[namespaceKey]*atomic.Int64, len(old))
	out := make([]*observerpb.Namespace, 0, len(old))
	for k, v := range old {
		if v.Load() < cutoff {
			continue
		}
		kept[k] = v
		out = append(out, &observerpb.Namespace{Cluster: k.cluster, Namespace: k.namespace})
	}
	if len(kept) != len(old) {
		t.seen.Store(&kept)
	}
	slices.SortFunc(out, func(a, b *observerpb.Namespace) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Namespace, b.Namespace))
	})
	return out
}
