package dns

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	mdns "github.com/miekg/dns"

	"github.com/foveanet/fovea/model/intern"
)

// Names is the IP→DNS names cache: every address a DNS response answered,
// with the names that led to it (the query and its CNAME chain), each
// until its TTL (at least the minimum TTL) runs out. It is bounded, evicting
// the least recently used address, and safe for concurrent use.
//
// Each address's current name list is interned once per change, so that
// records reference it (Record.SrcNames/DstNames) without a lookup per flow.
// Times are the records' Unix nanoseconds, so the cache ages with the
// events it describes.
type Names struct {
	table      *intern.Table[[]string]
	minTTL     time.Duration
	maxPerAddr int

	mu  sync.Mutex
	lru *simplelru.LRU[netip.Addr, *nameSet]

	size, evicted atomic.Int64
}

type nameSet struct {
	names   []timedName // sorted by name
	soonest int64       // earliest expiry among names
	ref     intern.Ref
}

type timedName struct {
	name    string
	expires int64
}

// NamesOption customises Names.
type NamesOption func(*namesOptions)

type namesOptions struct {
	capacity, maxPerAddr int
	minTTL               time.Duration
}

// WithCapacity bounds how many addresses the cache holds (default 65536).
func WithCapacity(n int) NamesOption { return func(o *namesOptions) { o.capacity = n } }

// WithMinTTL keeps names at least d (default one minute): connections often
// outlive short TTLs, and their later packets should still carry the name.
func WithMinTTL(d time.Duration) NamesOption { return func(o *namesOptions) { o.minTTL = d } }

// WithMaxNamesPerAddr bounds the names kept for one address (default 32),
// dropping the one expiring first: shared addresses (CDNs) can have
// thousands.
func WithMaxNamesPerAddr(n int) NamesOption { return func(o *namesOptions) { o.maxPerAddr = n } }

// NewNames returns an empty cache that interns name lists in table.
func NewNames(table *intern.Table[[]string], opts ...NamesOption) (*Names, error) {
	o := namesOptions{capacity: 65536, maxPerAddr: 32, minTTL: time.Minute}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case table == nil:
		return nil, fmt.Errorf("create DNS names cache: nil intern table")
	case o.capacity < 1:
		return nil, fmt.Errorf("create DNS names cache: capacity %d must be positive", o.capacity)
	case o.maxPerAddr < 1:
		return nil, fmt.Errorf("create DNS names cache: names per address %d must be positive", o.maxPerAddr)
	case o.minTTL < 0:
		return nil, fmt.Errorf("create DNS names cache: minimum TTL %v must not be negative", o.minTTL)
	}
	lru, err := simplelru.NewLRU[netip.Addr, *nameSet](o.capacity, nil)
	if err != nil {
		return nil, fmt.Errorf("create DNS names cache: %w", err)
	}
	return &Names{table: table, minTTL: o.minTTL, maxPerAddr: o.maxPerAddr, lru: lru}, nil
}

// Learn adds the names a successful response gives its A and AAAA answers:
// the question's name and every name of the answer section's CNAME chain.
func (n *Names) Learn(m *mdns.Msg, now int64) {
	if !m.Response || m.Rcode != mdns.RcodeSuccess || len(m.Question) == 0 {
		return
	}
	chain := []string{m.Question[0].Name}
	for _, rr := range m.Answer {
		if c, ok := rr.(*mdns.CNAME); ok {
			chain = append(chain, c.Hdr.Name, c.Target)
		}
	}
	for _, rr := range m.Answer {
		addr, ok := answerAddr(rr)
		if !ok {
			continue
		}
		ttl := time.Duration(rr.Header().Ttl) * time.Second
		for _, name := range append(chain, rr.Header().Name) {
			n.Add(addr, name, ttl, now)
		}
	}
}

// Add records that name resolved to addr at now (Unix ns), valid for ttl.
// Names are kept as Hubble shows them: lower case, without the final dot.
func (n *Names) Add(addr netip.Addr, name string, ttl time.Duration, now int64) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if name == "" || !addr.IsValid() {
		return
	}
	expires := now + int64(max(ttl, n.minTTL))
	addr = addr.Unmap()
	n.mu.Lock()
	defer n.mu.Unlock()
	s, ok := n.lru.Get(addr)
	if !ok {
		s = &nameSet{}
		if n.lru.Add(addr, s) {
			n.evicted.Add(1)
		}
	}
	i, found := slices.BinarySearchFunc(s.names, name, func(t timedName, name string) int {
		return strings.Compare(t.name, name)
	})
	if found {
		s.names[i].expires = max(s.names[i].expires, expires)
		s.soonest = soonest(s.names)
		return
	}
	s.names = slices.Insert(s.names, i, timedName{name, expires})
	if len(s.names) > n.maxPerAddr {
		first := 0
		for j, t := range s.names {
			if t.expires < s.names[first].expires {
				first = j
			}
		}
		s.names = slices.Delete(s.names, first, first+1)
	}
	n.update(s)
	n.size.Store(int64(n.lru.Len()))
}

// Lookup returns the reference of the names addr has at now (Unix ns), or
// zero if it has none.
func (n *Names) Lookup(addr netip.Addr, now int64) intern.Ref {
	addr = addr.Unmap()
	n.mu.Lock()
	defer n.mu.Unlock()
	s, ok := n.lru.Get(addr)
	if !ok {
		return 0
	}
	if now >= s.soonest {
		s.names = slices.DeleteFunc(s.names, func(t timedName) bool { return now >= t.expires })
		if len(s.names) == 0 {
			n.lru.Remove(addr)
			n.size.Store(int64(n.lru.Len()))
			return 0
		}
		n.update(s)
	}
	return s.ref
}

// Len returns how many addresses have names.
func (n *Names) Len() int { return int(n.size.Load()) }

// update re-interns the changed name list of s.
func (n *Names) update(s *nameSet) {
	s.soonest = soonest(s.names)
	list := make([]string, len(s.names))
	for i, t := range s.names {
		list[i] = t.name
	}
	// NUL never occurs in a name: miekg/dns escapes it as \000.
	s.ref = n.table.Intern(strings.Join(list, "\x00"), func() []string { return list })
}

func soonest(names []timedName) int64 {
	t := names[0].expires
	for _, n := range names[1:] {
		t = min(t, n.expires)
	}
	return t
}

// MarkRefs marks the name lists the cache holds, which the names enricher
// keeps writing into records. It holds the cache's lock while it walks it.
func (n *Names) MarkRefs(m *intern.Marks) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, s := range n.lru.Values() {
		m.Names.Add(s.ref)
	}
}
