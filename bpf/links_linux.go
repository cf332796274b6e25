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
	// defaultRoute holds the interfaces default routes leave through, read
	// when the links are listed (at start, and when a failed subscription
	// is replaced); only the watch's goroutine touches it after start.
	defaultRoute map[int]bool
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
	if err := w.reconcile(); err != nil {
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
				w.s.consider(u.Link, w.defaultRoute)
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
				err = w.reconcile()
			}
			if err == nil {
				w.s.log.Info("link subscription restored")
				break
			}
			w.s.log.Warn("restoring link subscription failed", "err", err)
		}
	}
}

// reconcile reads the default routes afresh, attaches to every selected
// interface and forgets attached ones that no longer exist.
func (w *linkWatch) reconcile() error {
	w.defaultRoute = w.s.defaultRouteLinks()
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("list links: %w", err)
	}
	present := make(map[int]bool, len(links))
	for _, l := range links {
		present[l.Attrs().Index] = true
		w.s.consider(l, w.defaultRoute)
	}
	for _, index := range w.s.attachedIndexes() {
		if !present[index] {
			w.s.detach(index, true)
		}
	}
	return nil
}

// consider attaches to l, or changes its role, or detaches from it, as its
// facts and the configuration decide.
func (s *Source) consider(l netlink.Link, defaultRoute map[int]bool) {
	attrs := l.Attrs()
	f := s.linkFacts(l, defaultRoute)
	d := decide(f, s.cfg.selectors)
	if !d.capture {
		s.detach(attrs.Index, false)
		return
	}
	l3 := l3Framings[attrs.EncapType]
	if attrs.EncapType != "ether" && !l3 {
		s.log.Info("not capturing on interface whose framing the programs cannot parse", "iface", attrs.Name, "encap", attrs.EncapType)
		return
	}
	if err := s.attach(attrs.Index, attrs.Name, d, attrs.NetNsID, l3); err != nil {
		s.log.Error("capture attach failed", "iface", attrs.Name, "ifindex", attrs.Index, "err", err)
	}
}

// tunnelLinkTypes are the link types of tunnel devices, whatever their
// names, and whether they encrypt: flannel.1, vxlan.calico and
// cilium_vxlan are "vxlan", genev_sys_6081 "geneve", tunl0 "ipip",
// wireguard.cali and cilium_wg0 "wireguard", IPsec interfaces "xfrm".
var tunnelLinkTypes = map[string]struct{ encrypted bool }{
	"vxlan": {}, "geneve": {}, "ipip": {}, "sit": {}, "ip6tnl": {},
	"wireguard": {encrypted: true}, "xfrm": {encrypted: true},
}

// l3Framings are the encapsulation types (netlink's names for ARPHRD_*)
// of devices whose packets start at the IP header: TUN and WireGuard
// ("none"), IP-in-IP, SIT, ip6tnl and GRE. They get the capture programs
// that parse from there.
var l3Framings = map[string]bool{"none": true, "ipip": true, "sit": true, "tunnel6": true, "gre": true}

// linkFacts reads what classify needs to know about l.
func (s *Source) linkFacts(l netlink.Link, defaultRoute map[int]bool) linkFacts {
	attrs := l.Attrs()
	f := linkFacts{
		name:         attrs.Name,
		veth:         l.Type() == "veth",
		defaultRoute: defaultRoute[attrs.Index],
		uplinkPort:   attrs.MasterIndex > 0 && defaultRoute[attrs.MasterIndex],
	}
	t, tunnel := tunnelLinkTypes[l.Type()]
	f.tunnel, f.encrypted = tunnel, t.encrypted
	f.peerElsewhere = f.veth && attrs.NetNsID >= 0
	if f.veth && !f.defaultRoute {
		addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			s.log.Warn("listing an interface's addresses failed; taking it for a pod's", "iface", attrs.Name, "err", err)
		}
		for _, a := range addrs {
			ones, bits := a.Mask.Size()
			if a.Scope == unix.RT_SCOPE_UNIVERSE && ones < bits {
				f.subnetAddr = true
			}
		}
	}
	return f
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
