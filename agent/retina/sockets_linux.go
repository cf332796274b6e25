//go:build linux

package retina

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// readSockets dumps the node's TCP and UDP sockets of both families
// through netlink sock_diag.
func (c *Node) readSockets() ([]prometheus.Metric, error) {
	var tcp []tcpSocket
	udp := 0
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		socks, err := netlink.SocketDiagTCP(family)
		if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
			return nil, fmt.Errorf("dump TCP sockets: %w", err)
		}
		for _, s := range socks {
			tcp = append(tcp, tcpSocket{state: s.State, remote: addrPort(s.ID.Destination, s.ID.DestinationPort)})
		}
		socks, err = netlink.SocketDiagUDP(family)
		if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
			return nil, fmt.Errorf("dump UDP sockets: %w", err)
		}
		udp += len(socks)
	}
	out, omitted := tallySockets(tcp, udp, c.remoteLimit)
	c.setOmitted(omitted)
	return out, nil
}

func addrPort(ip net.IP, port uint16) netip.AddrPort {
	a, _ := netip.AddrFromSlice(ip)
	return netip.AddrPortFrom(a, port)
}
