package windows

import (
	"net"
	"net/netip"
	"sync/atomic"
)

// Endpoint is an HNS endpoint of this node: a pod's (or the host's) vNIC
// on the vSwitch.
type Endpoint struct {
	ID   string
	Name string
	MAC  net.HardwareAddr
	IPs  []netip.Addr
}

// has reports whether addr is one of the endpoint's.
func (ep *Endpoint) has(addr netip.Addr) bool {
	for _, ip := range ep.IPs {
		if ip.Unmap() == addr.Unmap() {
			return true
		}
	}
	return false
}

// Endpoints is the set of this node's HNS endpoints by address and by MAC
// address, replaced whole when HNS is listed again, read lock-free by the
// decoder.
type Endpoints struct {
	index atomic.Pointer[endpointIndex]
}

type endpointIndex struct {
	byAddr map[netip.Addr]*Endpoint
	byMAC  map[string]*Endpoint // net.HardwareAddr.String()
}

// Set replaces the endpoints.
func (e *Endpoints) Set(eps []Endpoint) {
	idx := &endpointIndex{byAddr: make(map[netip.Addr]*Endpoint, len(eps)), byMAC: make(map[string]*Endpoint, len(eps))}
	for i := range eps {
		for _, ip := range eps[i].IPs {
			idx.byAddr[ip.Unmap()] = &eps[i]
		}
		if eps[i].MAC != nil {
			idx.byMAC[eps[i].MAC.String()] = &eps[i]
		}
	}
	e.index.Store(idx)
}

// Lookup returns the endpoint that has addr, or nil.
func (e *Endpoints) Lookup(addr netip.Addr) *Endpoint {
	idx := e.index.Load()
	if idx == nil {
		return nil
	}
	return idx.byAddr[addr.Unmap()]
}

// LookupMAC returns the endpoint whose MAC address mac is, or nil.
func (e *Endpoints) LookupMAC(mac net.HardwareAddr) *Endpoint {
	idx := e.index.Load()
	if idx == nil || mac == nil {
		return nil
	}
	return idx.byMAC[mac.String()]
}

// Len is how many addresses the set holds.
func (e *Endpoints) Len() int {
	idx := e.index.Load()
	if idx == nil {
		return 0
	}
	return len(idx.byAddr)
}
