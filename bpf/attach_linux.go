//go:build linux

package bpf

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// attachment is the capture programs attached to one interface.
type attachment struct {
	name      string
	role      role
	encrypted bool
	detach    func() error
	// podNetns is the inode of the pod namespace behind a veth whose
	// drops and retransmissions are reported, or 0.
	podNetns uint32
}

// attach hooks both directions of an interface in the role d decided,
// preferring tcx links and falling back to tc clsact filters once the
// kernel is found to lack tcx. Attaching an already attached interface
// only follows a rename or a change of role. l3 selects the programs for a
// device whose packets start at the IP header. For a pod's veth, peerNsid
// (the id of the namespace holding its peer, -1 when none) selects the pod
// namespace whose drops are reported too.
func (s *Source) attach(index int, name string, d decision, peerNsid int, l3 bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := d.role
	if a, ok := s.attached[index]; ok {
		if a.name != name || a.role != r || a.encrypted != d.encrypted {
			if a.role != r {
				s.log.Info("interface changed role", "iface", name, "ifindex", index, "role", r, "was", a.role, "reason", d.reason)
				s.unwatchPodNetns(a.podNetns)
				a.podNetns = 0
				if r == roleEndpoint {
					a.podNetns = s.watchPodNetns(name, peerNsid)
				}
			}
			a.name, a.role, a.encrypted = name, r, d.encrypted
			s.publishIface(index, name, r, d.encrypted)
		}
		return nil
	}
	// Published before attaching so the first packets already resolve.
	s.publishIface(index, name, r, d.encrypted)
	var (
		detach func() error
		err    error
	)
	ingress, egress := s.objs.CaptureIngress, s.objs.CaptureEgress
	if l3 {
		ingress, egress = s.objs.CaptureIngressL3, s.objs.CaptureEgressL3
	}
	if !s.useTC {
		detach, err = s.attachTCX(index, ingress, egress)
		if errors.Is(err, ebpf.ErrNotSupported) {
			s.log.Info("kernel lacks tcx, attaching through tc clsact")
			s.useTC = true
		}
	}
	if s.useTC {
		detach, err = attachTC(index, ingress, egress)
	}
	if err != nil {
		s.unpublishIface(index)
		return fmt.Errorf("attach to %s: %w", name, err)
	}
	a := &attachment{name: name, role: r, encrypted: d.encrypted, detach: detach}
	if r == roleEndpoint {
		a.podNetns = s.watchPodNetns(name, peerNsid)
	}
	s.attached[index] = a
	s.log.Info("capturing on interface", "iface", name, "ifindex", index, "role", r, "reason", d.reason,
		"encrypted", d.encrypted, "l3", l3, "tc", s.useTC)
	if s.opts.attachHook != nil {
		s.opts.attachHook(name, index, true)
	}
	return nil
}

// attachTCX attaches both programs first in line: another owner's program
// (a CNI's policy, NAT or redirect) may drop, rewrite or redirect a packet,
// and a program after it would miss the packet or see the node's address
// where the pod's was. Both pass every packet on (TCX_NEXT), so the order
// of the others is kept.
func (s *Source) attachTCX(index int, ingress, egress *ebpf.Program) (func() error, error) {
	in, err := link.AttachTCX(link.TCXOptions{
		Interface: index, Program: ingress, Attach: ebpf.AttachTCXIngress, Anchor: link.Head(),
	})
	if err != nil {
		return nil, fmt.Errorf("attach tcx ingress: %w", err)
	}
	out, err := link.AttachTCX(link.TCXOptions{
		Interface: index, Program: egress, Attach: ebpf.AttachTCXEgress, Anchor: link.Head(),
	})
	if err != nil {
		_ = in.Close()
		return nil, fmt.Errorf("attach tcx egress: %w", err)
	}
	return func() error { return errors.Join(in.Close(), out.Close()) }, nil
}

// detach removes an interface's programs. gone says the interface no
// longer exists, so its hooks went with it.
func (s *Source) detach(index int, gone bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.detachLocked(index, gone)
}

func (s *Source) detachLocked(index int, gone bool) {
	a, ok := s.attached[index]
	if !ok {
		return
	}
	delete(s.attached, index)
	s.unwatchPodNetns(a.podNetns)
	if err := a.detach(); err != nil && !gone {
		s.log.Warn("detaching from interface failed", "iface", a.name, "ifindex", index, "err", err)
	}
	s.unpublishIface(index)
	s.forgetForwardCounts(index)
	s.log.Info("stopped capturing on interface", "iface", a.name, "ifindex", index)
	if s.opts.attachHook != nil {
		s.opts.attachHook(a.name, index, false)
	}
}

// detachAll detaches from every interface and returns how many there were.
func (s *Source) detachAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.attached)
	for index := range s.attached {
		s.detachLocked(index, false)
	}
	return n
}

// publishIface makes an interface known to the reader. Callers hold s.mu.
func (s *Source) publishIface(index int, name string, r role, encrypted bool) {
	key := strconv.Itoa(index) + "/" + name
	ref := s.tables.Interfaces.Intern(key, func() *flowpb.NetworkInterface {
		return &flowpb.NetworkInterface{Index: uint32(index), Name: name}
	})
	next := maps.Clone(*s.ifaces.Load())
	next[uint32(index)] = ifaceInfo{role: r, encrypted: encrypted, ref: ref}
	s.ifaces.Store(&next)
	s.gateHTTP(index, r == roleEndpoint)
}

// gateHTTP lets the capture program send the HTTP of the interface, or not:
// only a pod's own interface reports it. Callers hold s.mu.
func (s *Source) gateHTTP(index int, on bool) {
	key := uint32(index)
	var err error
	if on {
		err = s.objs.HttpIfaces.Put(key, uint8(1))
	} else if err = s.objs.HttpIfaces.Delete(key); errors.Is(err, ebpf.ErrKeyNotExist) {
		err = nil
	}
	if err != nil {
		// Full (16384 pods' interfaces): this one's HTTP goes unseen.
		s.log.Warn("cannot change the interface's HTTP reporting", "ifindex", index, "on", on, "err", err)
	}
}

// unpublishIface makes the reader drop an interface's events. Callers hold
// s.mu.
func (s *Source) unpublishIface(index int) {
	next := maps.Clone(*s.ifaces.Load())
	delete(next, uint32(index))
	s.ifaces.Store(&next)
	s.gateHTTP(index, false)
}

// attachedIndexes returns the ifindexes currently attached.
func (s *Source) attachedIndexes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Keys(s.attached))
}
