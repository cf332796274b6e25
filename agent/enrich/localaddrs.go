package enrich

import (
	"fmt"
	"net"
	"net/netip"
)

// LocalAddrs lists the addresses of the interfaces in the caller's network
// namespace: the node's addresses when the agent runs in the host network.
func LocalAddrs() ([]netip.Addr, error) {
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list interface addresses: %w", err)
	}
	addrs := make([]netip.Addr, 0, len(ifaddrs))
	for _, ia := range ifaddrs {
		if p, err := netip.ParsePrefix(ia.String()); err == nil {
			addrs = append(addrs, p.Addr())
		}
	}
	return addrs, nil
}
