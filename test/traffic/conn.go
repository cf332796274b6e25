package traffic

import (
	"fmt"
	"net/netip"
	"time"
)

// Ports the servers listen on in every pod. ClosedPort never has a listener.
const (
	TCPPort    uint16 = 8080
	UDPPort    uint16 = 5300
	ClosedPort uint16 = 9999
)

// DefaultTimeout bounds each request/response exchange when ctx has no
// earlier deadline.
const DefaultTimeout = 2 * time.Second

// Netns runs code inside a network namespace; sockets created in fn stay in
// it. test/cluster.Netns implements it.
type Netns interface {
	Do(fn func() error) error
}

// Host is a pod traffic can start or end at.
type Host struct {
	// Name identifies the pod in Conn descriptions, e.g. "demo/db-...".
	Name  string
	Netns Netns
	IPv4  netip.Addr
	IPv6  netip.Addr
}

// Family selects the IP version of a connection.
type Family uint8

// Families.
const (
	IPv4 Family = 4
	IPv6 Family = 6
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	default:
		return fmt.Sprintf("Family(%d)", uint8(f))
	}
}

// Addr returns h's address of family f.
func (h Host) Addr(f Family) (netip.Addr, error) {
	var a netip.Addr
	switch f {
	case IPv4:
		a = h.IPv4
	case IPv6:
		a = h.IPv6
	default:
		return netip.Addr{}, fmt.Errorf("invalid family %d: want 4 or 6", uint8(f))
	}
	if !a.IsValid() {
		return netip.Addr{}, fmt.Errorf("host %s has no %s address", h.Name, f)
	}
	return a, nil
}

// Kind names a generator.
type Kind string

// Kinds of generated connections.
const (
	KindTCPShort   Kind = "tcp-short"
	KindTCPLong    Kind = "tcp-long"
	KindUDP        Kind = "udp"
	KindICMP       Kind = "icmp"
	KindTCPRefused Kind = "tcp-refused"
)

// Proto is the L4 protocol of a connection.
type Proto string

// Protocols, named as Hubble names them.
const (
	ProtoTCP    Proto = "TCP"
	ProtoUDP    Proto = "UDP"
	ProtoICMPv4 Proto = "ICMPv4"
	ProtoICMPv6 Proto = "ICMPv6"
)

// Endpoint is one end of a connection. Port is zero for ICMP.
type Endpoint struct {
	Host string
	IP   netip.Addr
	Port uint16
}

func (e Endpoint) String() string {
	if e.Port == 0 {
		return fmt.Sprintf("%s(%s)", e.Host, e.IP)
	}
	return fmt.Sprintf("%s(%s)", e.Host, netip.AddrPortFrom(e.IP, e.Port))
}

// Conn describes one generated connection. Src initiated it: packets from
// Src to Dst are requests (is_reply false), packets back are replies.
type Conn struct {
	Kind  Kind
	Proto Proto
	Src   Endpoint
	Dst   Endpoint
	// ICMPID is the echo identifier of an ICMP exchange.
	ICMPID uint16
	// Requests and Replies count messages sent and answers received
	// (echo requests/replies, request lines/response lines, datagrams).
	Requests int
	Replies  int
	Start    time.Time
	End      time.Time
}

func (c Conn) String() string {
	s := fmt.Sprintf("%s %s %s -> %s", c.Kind, c.Proto, c.Src, c.Dst)
	if c.Proto == ProtoICMPv4 || c.Proto == ProtoICMPv6 {
		s += fmt.Sprintf(" id=%d", c.ICMPID)
	}
	return s + fmt.Sprintf(" req=%d rep=%d", c.Requests, c.Replies)
}
