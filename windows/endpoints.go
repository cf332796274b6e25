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

// Endpoints is the set of this node's HNS endpoints by address, replaced
// whole when HNS is listed again, read lock-free by the decoder.
type Endpoints struct {
	byAddr atomic.Pointer[map[netip.Addr]*Endpoint]
}

// Set replaces the endpoints.
func (e *Endpoints) Set(eps []Endpoint) {
	m := make(map[netip.Addr]*Endpoint, len(eps))
	for i := range eps {
		for _, ip := range eps[i].IPs {
			m[ip.Unmap()] = &eps[i]
		}
	}
	e.byAddr.Store(&m)
}

// Lookup returns the endpoint that has addr, or nil.
func (e *Endpoints) Lookup(addr netip.Addr) *Endpoint {
	m := e.byAddr.Load()
	if m == nil {
		return nil
	}
	return (*m)[addr.Unmap()]
}

// Len is how many addresses the set holds.
func (e *Endpoints) Len() int {
	m := e.byAddr.Load()
	if m == nil {
		return 0
	}
	return len(*m)
}
