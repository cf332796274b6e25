//go:build linux

package bpf

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// resubscribeDelay paces attempts to replace a failed link subscription.
const resubscribeDelay = time.Second

// linkWatch follows the interfaces of the network namespace.
type linkWatch struct {
	s       *Source
	done    chan struct{}
	stopped atomic.Bool
}

// watchLinks attaches to every selected interface present now and, until
// the returned stop is called, to selected interfaces as they appear; it
// forgets interfaces as they are deleted. Subscribing before listing means
// no interface created in between is missed.
func (s *Source) watchLinks() (stop func(), err error) {
	w := &linkWatch{s: s, done: make(chan struct{})}
	stopOnce := sync.OnceFunc(func() {
		w.stopped.Store(true)
		close(w.done)
	})
	updates, err := w.subscribe()
	if err != nil {
		stopOnce()
		return nil, err
	}
	// The default-route device is resolved once, at start; veths and glob
	// matches are also picked up as they appear.
	if err := w.reconcile(s.defaultRouteLinks()); err != nil {
		stopOnce()
		return nil, err
	}

	var wg sync.WaitGroup
	wg.Go(func() { w.follow(updates) })
	return func() {
		stopOnce()
		wg.Wait()
	}, nil
}

func (w *linkWatch) subscribe() (<-chan netlink.LinkUpdate, error) {
	updates := make(chan netlink.LinkUpdate, 256)
	err := netlink.LinkSubscribeWithOptions(updates, w.done, netlink.LinkSubscribeOptions{
		ErrorCallback: func(err error) {
			// Closing the subscription makes its pending receive fail.
			if !w.stopped.Load() {
				w.s.log.Warn("link subscription failed", "err", err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe to link updates: %w", err)
	}
	return updates, nil
}

// follow applies link updates until stopped. A subscription that fails
// (typically its socket overflowed) is replaced, and the interfaces listed
// afresh so that nothing created or deleted meanwhile is missed.
func (w *linkWatch) follow(updates <-chan netlink.LinkUpdate) {
	for {
		for u := range updates {
			switch u.Header.Type {
			case unix.RTM_NEWLINK:
				w.s.consider(u.Link, nil)
			case unix.RTM_DELLINK:
				w.s.detach(int(u.Attrs().Index), true)
			}
		}
		for {
			select {
			case <-w.done:
				return
			case <-time.After(resubscribeDelay):
			}
			var err error
			if updates, err = w.subscribe(); err == nil {
				err = w.reconcile(nil)
			}
			if err == nil {
				w.s.log.Info("link subscription restored")
				break
			}
			w.s.log.Warn("restoring link subscription failed", "err", err)
		}
	}
}

// reconcile attaches to every selected interface and forgets attached ones
// that no longer exist.
func (w *linkWatch) reconcile(defaultRoute map[int]bool) error {
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("list links: %w", err)
	}
	present := make(map[int]bool, len(links))
	for _, l := range links {
		present[l.Attrs().Index] = true
		w.s.consider(l, defaultRoute)
	}
	for _, index := range w.s.attachedIndexes() {
		if !present[index] {
			w.s.detach(index, true)
		}
	}
	return nil
}

// consider attaches to l if the configuration selects it.
func (s *Source) consider(l netlink.Link, defaultRoute map[int]bool) {
	attrs := l.Attrs()
	isVeth := l.Type() == "veth"
	selected := isVeth || defaultRoute[attrs.Index]
	if len(s.cfg.Interfaces) > 0 {
		selected = s.cfg.matches(attrs.Name)
	}
	if !selected {
		return
	}
	// The program parses from an Ethernet header; L3 devices have none.
	if attrs.EncapType != "ether" {
		s.log.Info("not capturing on interface without Ethernet framing", "iface", attrs.Name, "encap", attrs.EncapType)
		return
	}
	r := roleNetwork
	if isVeth {
		r = roleEndpoint
	}
	if err := s.attach(attrs.Index, attrs.Name, r, attrs.NetNsID); err != nil {
		s.log.Error("capture attach failed", "iface", attrs.Name, "ifindex", attrs.Index, "err", err)
	}
}

// defaultRouteLinks returns the interfaces default routes leave through.
func (s *Source) defaultRouteLinks() map[int]bool {
	out := make(map[int]bool)
	routes, err := netlink.RouteList(nil, netlink.FAMILY_ALL)
	if err != nil {
		s.log.Warn("listing routes failed; no default-route device selected", "err", err)
		return out
	}
	for _, r := range routes {
		if r.Dst != nil {
			if ones, _ := r.Dst.Mask.Size(); ones != 0 {
				continue
			}
		}
		if r.LinkIndex > 0 {
			out[r.LinkIndex] = true
		}
		for _, hop := range r.MultiPath {
			out[hop.LinkIndex] = true
		}
	}
	return out
}
