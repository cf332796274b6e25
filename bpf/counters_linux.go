//go:build linux

package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// fwdSlots is FWD_SLOTS in c/counters.h: interfaces with a lower index
// count in the forward_slots array, others in the forward_counters hash.
const fwdSlots = 4096

// ForwardCount is what the capture program counted on one interface in
// one direction since it attached there.
type ForwardCount struct {
	Interface string
	// Network says the interface faces the network (its role is
	// network): its packets are the node's traffic, each counted once,
	// where a pod's packet is also counted on its veth.
	Network bool
	Dir     Direction
	Packets uint64
	Bytes   uint64
}

// ForwardCounts sums the per-CPU counters of every attached interface.
// Interfaces that saw no packet yet are left out.
func (s *Source) ForwardCounts() ([]ForwardCount, error) {
	s.mu.Lock()
	names := make(map[uint32]counted, len(s.attached))
	for index, a := range s.attached {
		names[uint32(index)] = counted{a.name, a.role == roleNetwork}
	}
	s.mu.Unlock()

	var (
		key    captureFwdKey
		perCPU []captureFwdVal
		out    []ForwardCount
	)
	for index, a := range names {
		if index >= fwdSlots {
			continue
		}
		for _, d := range []Direction{Ingress, Egress} {
			if err := s.objs.ForwardSlots.Lookup(fwdSlot(index, d), &perCPU); err != nil {
				return nil, fmt.Errorf("look up forward_slots: %w", err)
			}
			if c := sumForward(a, d, perCPU); c.Packets > 0 {
				out = append(out, c)
			}
		}
	}
	it := s.objs.ForwardCounters.Iterate()
	for it.Next(&key, &perCPU) {
		a, ok := names[key.Ifindex]
		if !ok || key.Dir > uint32(Egress) {
			// Detached while being read, or a new attachment's first
			// packets arriving before its name was recorded.
			continue
		}
		out = append(out, sumForward(a, Direction(key.Dir), perCPU))
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("iterate forward_counters: %w", err)
	}
	return out, nil
}

func fwdSlot(index uint32, d Direction) uint32 { return index*2 + uint32(d) }

// counted is what a forward count says of its interface, copied under the
// source's lock.
type counted struct {
	name    string
	network bool
}

func sumForward(a counted, d Direction, perCPU []captureFwdVal) ForwardCount {
	c := ForwardCount{Interface: a.name, Network: a.network, Dir: d}
	for _, v := range perCPU {
		c.Packets += v.Packets
		c.Bytes += v.Bytes
	}
	return c
}

// forwardCountFailures sums the packets the counters missed because their
// table was full.
func (s *Source) forwardCountFailures() (uint64, error) {
	return perCPUSum(s.objs.ForwardCountFailures)
}

// forgetForwardCounts deletes a detached interface's counters, so an index
// the kernel reuses starts from zero and the table stays bounded by the
// attached interfaces. Callers hold s.mu.
func (s *Source) forgetForwardCounts(index int) {
	for _, d := range []Direction{Ingress, Egress} {
		var err error
		if index < fwdSlots {
			err = s.objs.ForwardSlots.Update(fwdSlot(uint32(index), d), make([]captureFwdVal, s.possibleCPUs), ebpf.UpdateExist)
		} else {
			err = s.objs.ForwardCounters.Delete(captureFwdKey{Ifindex: uint32(index), Dir: uint32(d)})
			if errors.Is(err, ebpf.ErrKeyNotExist) {
				err = nil
			}
		}
		if err != nil {
			s.log.Warn("clearing interface counters failed", "ifindex", index, "dir", d, "err", err)
		}
	}
}
