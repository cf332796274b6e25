package l7

import (
	"fmt"
	"math/bits"
	"sync/atomic"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// MaxCapacity bounds a Store: references are 32-bit sequence numbers and
// must not wrap within one lap of the slots.
const MaxCapacity = 1 << 30

// Store is a fixed-capacity ring of L7 details. Put is for one writer (the
// pipeline goroutine); Get is safe from any number of readers concurrently.
type Store struct {
	slots []atomic.Pointer[slot]
	mask  uint32
	next  uint32 // sequence of the last Put; written by the writer only

	stored, expired atomic.Uint64
}

type slot struct {
	ref intern.Ref
	l7  *flowpb.Layer7
}

// NewStore returns a store holding the last capacity details, rounded up to
// a power of two.
func NewStore(capacity int) (*Store, error) {
	if capacity < 1 || capacity > MaxCapacity {
		return nil, fmt.Errorf("create L7 store: capacity %d out of range [1, %d]", capacity, MaxCapacity)
	}
	n := 1 << bits.Len(uint(capacity-1))
	return &Store{slots: make([]atomic.Pointer[slot], n), mask: uint32(n - 1)}, nil
}

// Cap returns how many details the store holds.
func (s *Store) Cap() int { return len(s.slots) }

// Put stores l, which must not be modified afterwards, and returns its
// reference. It overwrites the oldest details once the store is full.
func (s *Store) Put(l *flowpb.Layer7) intern.Ref {
	s.next++
	if s.next == 0 { // zero is "no reference"
		s.next++
	}
	ref := intern.Ref(s.next)
	s.slots[s.next&s.mask].Store(&slot{ref: ref, l7: l})
	s.stored.Add(1)
	return ref
}

// Release drops the details behind ref, unless newer ones took their slot:
// the record that referenced them is leaving the ring, so the store holds
// only what the ring's records reference, not a full lap of details. Only
// the writer may call it.
func (s *Store) Release(ref intern.Ref) {
	sl := &s.slots[uint32(ref)&s.mask]
	if v := sl.Load(); v != nil && v.ref == ref {
		sl.Store(nil)
	}
}

// Get returns the details behind ref, or nil for the zero Ref or details
// that were overwritten since (counted as expired).
func (s *Store) Get(ref intern.Ref) *flowpb.Layer7 {
	if ref == 0 {
		return nil
	}
	sl := s.slots[uint32(ref)&s.mask].Load()
	if sl == nil || sl.ref != ref {
		s.expired.Add(1)
		return nil
	}
	return sl.l7
}

// Record writes into out the L7 record of a message seen in packet pkt:
// pkt's addresses, ports, interface, observation point and endpoints, the
// verdict FORWARDED, reply set for a response (Hubble marks responses, and
// only them, as replies), and a reference to l, which it stores. What only
// a packet has (TCP flags, counts, a handshake time) is cleared.
func (s *Store) Record(pkt *record.Record, l *flowpb.Layer7, out *record.Record) {
	*out = *pkt
	out.Kind = record.KindL7
	out.Verdict = uint8(flowpb.Verdict_FORWARDED)
	out.TCPFlags = 0
	out.DropReason = 0
	out.Count = 0
	out.Detail = 0
	out.Retransmit = false
	out.Flags &^= record.FlagSNAT | record.FlagEncrypted
	out.TunnelSrcPort = 0
	out.SetReply(l.GetType() == flowpb.L7FlowType_RESPONSE)
	out.Ext = s.Put(l)
}
