//go:build linux

package bpf

import (
	"fmt"
	"net/netip"
	"os"
	"slices"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Link is a network interface of the agent's namespace.
type Link struct {
	Index int
	Name  string
}

// PodLink finds the host side of the veth that leads to the pod holding
// addrs, the interface a capture of the pod's packets listens on:
//
//   - routed pods (Calico, the test cluster's routed layout): the route to
//     a pod address leaves through its veth;
//   - bridged pods (flannel's cni0): the route leaves through the bridge;
//     of the bridge's veth ports, the one whose peer, in a pinned network
//     namespace, holds the address is the pod's.
//
// It returns false when no veth leads to the address: the pod runs on
// another node, on the host network, or behind an interface of another
// kind.
func PodLink(addrs []netip.Addr) (Link, bool, error) {
	for _, a := range addrs {
		routes, err := netlink.RouteGet(a.AsSlice())
		if err != nil || len(routes) == 0 {
			continue
		}
		l, err := netlink.LinkByIndex(routes[0].LinkIndex)
		if err != nil {
			continue
		}
		attrs := l.Attrs()
		switch l.Type() {
		case "veth":
			if attrs.NetNsID >= 0 {
				return Link{Index: attrs.Index, Name: attrs.Name}, true, nil
			}
		case "bridge":
			port, ok, err := bridgePortTo(attrs.Index, a)
			if err != nil || ok {
				return port, ok, err
			}
		}
	}
	return Link{}, false, nil
}

// bridgePortTo returns the veth port of bridge whose peer holds a.
func bridgePortTo(bridge int, a netip.Addr) (Link, bool, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return Link{}, false, fmt.Errorf("list links: %w", err)
	}
	for _, l := range links {
		attrs := l.Attrs()
		if l.Type() != "veth" || attrs.MasterIndex != bridge || attrs.NetNsID < 0 {
			continue
		}
		if peerHolds(attrs.NetNsID, attrs.ParentIndex, a) {
			return Link{Index: attrs.Index, Name: attrs.Name}, true, nil
		}
	}
	return Link{}, false, nil
}

// peerHolds reports whether the interface index of the pinned namespace
// nsid holds address a. A namespace that is not pinned, or gone, holds
// nothing.
func peerHolds(nsid, index int, a netip.Addr) bool {
	path, _, ok, err := pinnedNetns(nsid)
	if err != nil || !ok {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	h, err := netlink.NewHandleAt(netns.NsHandle(f.Fd()))
	if err != nil {
		return false
	}
	defer h.Close()
	peer, err := h.LinkByIndex(index)
	if err != nil {
		return false
	}
	addrs, err := h.AddrList(peer, netlink.FAMILY_ALL)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(addrs, func(x netlink.Addr) bool {
		ip, ok := netip.AddrFromSlice(x.IP)
		return ok && ip.Unmap() == a.Unmap()
	})
}

// HostLinks returns the interfaces default routes leave through, the
// node's side of its traffic to other nodes and the world.
func HostLinks() ([]Link, error) {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	seen := map[int]bool{}
	var out []Link
	add := func(index int) {
		if index <= 0 || seen[index] {
			return
		}
		seen[index] = true
		if l, err := netlink.LinkByIndex(index); err == nil {
			out = append(out, Link{Index: index, Name: l.Attrs().Name})
		}
	}
	for _, r := range routes {
		if r.Dst != nil {
			if ones, _ := r.Dst.Mask.Size(); ones != 0 {
				continue
			}
		}
		add(r.LinkIndex)
		for _, hop := range r.MultiPath {
			add(hop.LinkIndex)
		}
	}
	return out, nil
}

// LinkExists reports whether the interface index still exists with name:
// an index can be reused by a new interface once its own is deleted.
func LinkExists(l Link) bool {
	got, err := netlink.LinkByIndex(l.Index)
	return err == nil && got.Attrs().Name == l.Name
}
