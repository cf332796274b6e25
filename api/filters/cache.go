package filters

import (
	"sync/atomic"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
)

// refCacheSlots is the size of a refCache: 8 KiB, enough for the endpoints
// and name lists a busy node sees.
const refCacheSlots = 1024

const (
	slotValid = 1 << 1
	slotMatch = 1 << 0
)

// refCache remembers a predicate's answer per intern Ref. Interned values
// never change, so an answer computed once (a regexp or label selector run)
// holds for every later event with the same Ref. It is direct-mapped and
// lock-free: a collision only costs a recomputation. Answers are kept for
// the first intern tables seen; events of other tables bypass the cache.
type refCache struct {
	tables atomic.Pointer[intern.Tables]
	slots  [refCacheSlots]atomic.Uint64
}

// lookup returns the cached answer for ref, if any.
func (c *refCache) lookup(t *intern.Tables, ref intern.Ref) (match, ok bool) {
	if !c.owns(t) {
		return false, false
	}
	s := c.slots[uint32(ref)%refCacheSlots].Load()
	if s&slotValid == 0 || uint32(s>>32) != uint32(ref) {
		return false, false
	}
	return s&slotMatch != 0, true
}

// store records the answer for ref.
func (c *refCache) store(t *intern.Tables, ref intern.Ref, match bool) {
	if !c.owns(t) {
		return
	}
	s := uint64(ref)<<32 | slotValid
	if match {
		s |= slotMatch
	}
	c.slots[uint32(ref)%refCacheSlots].Store(s)
}

func (c *refCache) owns(t *intern.Tables) bool {
	if p := c.tables.Load(); p != nil {
		return p == t
	}
	return c.tables.CompareAndSwap(nil, t) || c.tables.Load() == t
}

// nodeCache remembers a predicate's answer for the last node seen: every
// event of an agent shares one Node, so node-level fields are matched once.
type nodeCache struct {
	last atomic.Pointer[nodeAnswer]
}

type nodeAnswer struct {
	node  *flowview.Node
	match bool
}

// get returns the answer for n, computing it with match on a miss.
func (c *nodeCache) get(n *flowview.Node, match func(*flowview.Node) bool) bool {
	if a := c.last.Load(); a != nil && a.node == n {
		return a.match
	}
	a := &nodeAnswer{node: n, match: match(n)}
	c.last.Store(a)
	return a.match
}

// nodeLabelsCache remembers a predicate's answer for the last node labels
// seen. A node's labels change only by replacing the whole slice
// (flowview.Node.SetLabels), so the slice's identity stands for its content
// and a relabelled node is matched afresh.
type nodeLabelsCache struct {
	last atomic.Pointer[labelsAnswer]
}

type labelsAnswer struct {
	labels []string
	match  bool
}

// get returns the answer for labels, computing it with match on a miss.
func (c *nodeLabelsCache) get(labels []string, match func([]string) bool) bool {
	if a := c.last.Load(); a != nil && sameSlice(a.labels, labels) {
		return a.match
	}
	a := &labelsAnswer{labels: labels, match: match(labels)}
	c.last.Store(a)
	return a.match
}

// sameSlice reports whether a and b are the same slice: same length and,
// when not empty, same first element.
func sameSlice(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
