//go:build linux

package retina

import "github.com/prometheus/client_golang/prometheus"

// systemReaders are the series Linux keeps of its network stack.
func systemReaders(c *Node) []reader {
	return []reader{
		{name: "sockets", descs: []*prometheus.Desc{descTCPState, descTCPRemote, descUDPStats}, read: c.readSockets},
		{name: "netstat", descs: []*prometheus.Desc{descTCPStats, descIPStats}, read: readNetstat},
		{name: "interfaces", descs: []*prometheus.Desc{descIfaceStat}, read: readInterfaces},
		{name: "conntrack", descs: []*prometheus.Desc{descConntrackPacketsTx, descConntrackPacketsRx,
			descConntrackBytesTx, descConntrackBytesRx, descConntrackTotal}, read: readConntrack},
	}
}
