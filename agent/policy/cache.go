package policy

import (
	"strings"
	"sync"
	"sync/atomic"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/intern"
)

// maxCached bounds the verdict cache: entries of endpoints that changed
// (a relabelled pod is a new endpoint) are never looked up again, so the
// cache starts over when full rather than grow with churn. 65,536 entries
// take about 5 MiB.
const maxCached = 1 << 16

// cacheKey is a connection direction as its verdict depends on it: the
// selected pod's and the peer's interned endpoints (their labels, their
// namespace's labels), the peer's address (ipBlocks), the destination
// port and the protocol.
type cacheKey struct {
	local, peer intern.Ref
	addr        [16]byte
	port        uint16
	proto       uint8
	dir         Direction
}

// Decision is a cached Result: the policies as one interned set.
type Decision struct {
	Outcome Outcome
	Match   uint8
	// Policies references the deciding policies in Tables.Policies.
	Policies intern.Ref
}

// cache holds decisions for one snapshot generation. Only the pipeline's
// writer goroutine reads and writes m; the sweeper reads refs, under mu.
type cache struct {
	policies *intern.Table[[]*flowpb.Policy]
	gen      uint64
	m        map[cacheKey]Decision
	flushes  atomic.Uint64

	mu sync.Mutex
	// refs are the policy sets the cache (and so future records) may
	// still reference, for the sweeper.
	refs map[intern.Ref]struct{}
}

func newCache(policies *intern.Table[[]*flowpb.Policy]) *cache {
	return &cache{policies: policies, m: make(map[cacheKey]Decision), refs: map[intern.Ref]struct{}{}}
}

// lookup returns the decision cached for k under snap.
func (c *cache) lookup(snap *Snapshot, k cacheKey) (Decision, bool) {
	if snap.Gen != c.gen {
		c.reset(snap.Gen)
	}
	d, ok := c.m[k]
	return d, ok
}

// evaluate decides conn under snap and caches the decision as k.
func (c *cache) evaluate(snap *Snapshot, k cacheKey, conn *Conn) Decision {
	if len(c.m) >= maxCached {
		c.reset(c.gen)
	}
	r := snap.Evaluate(conn)
	d := Decision{Outcome: r.Outcome, Match: uint8(r.Match)}
	if len(r.Policies) > 0 {
		d.Policies = c.intern(r.Policies)
	}
	c.m[k] = d
	return d
}

func (c *cache) reset(gen uint64) {
	c.gen = gen
	clear(c.m)
	c.flushes.Add(1)
	c.mu.Lock()
	clear(c.refs)
	c.mu.Unlock()
}

// intern returns the reference of a set of deciders, keyed by their
// policies' kinds, names and revisions and their rules.
func (c *cache) intern(ds []Decider) intern.Ref {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.key())
		b.WriteByte(0)
	}
	ref := c.policies.Intern(b.String(), func() []*flowpb.Policy {
		ids := make([]*flowpb.Policy, len(ds))
		for i, d := range ds {
			ids[i] = d.ID()
		}
		return ids
	})
	c.mu.Lock()
	c.refs[ref] = struct{}{}
	c.mu.Unlock()
	return ref
}

// MarkRefs marks the policy sets the cache holds.
func (c *cache) MarkRefs(m *intern.Marks) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ref := range c.refs {
		m.Policies.Add(ref)
	}
}
