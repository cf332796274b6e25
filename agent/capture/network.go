package capture

import (
	"errors"
	"net/netip"
	"time"

	"golang.org/x/net/bpf"
)

// link is an interface of the node a capture listens on.
type link struct {
	index int
	name  string
}

// packetInfo describes a packet a socket read.
type packetInfo struct {
	captured, length int
	at               time.Time
}

var (
	// errNoPacket: no packet came within the socket's read timeout.
	errNoPacket = errors.New("no packet")
	// errGone: the socket's interface was deleted or taken down.
	errGone = errors.New("interface gone")
)

// socket reads the packets of one interface that its filter accepts.
type socket interface {
	// read reads the next packet into buf, or fails with errNoPacket
	// after the socket's read timeout, or errGone.
	read(buf []byte) (packetInfo, error)
	// stats returns the packets received and dropped by the kernel.
	stats() (packets, drops uint64)
	close() error
}

// network is what captures need of the node's network: the packet
// sockets on Linux, fakes in tests.
type network interface {
	podLink(addrs []netip.Addr) (link, bool, error)
	hostLinks() ([]link, error)
	exists(l link) bool
	open(l link, prog []bpf.RawInstruction) (socket, error)
}

// readTimeout bounds how long a socket read waits, and so how long a
// reader takes to notice its capture ended.
const readTimeout = 100 * time.Millisecond

// socketBuffer is each socket's receive buffer: what may wait in the
// kernel while the capture writes, beyond which the kernel drops and
// counts.
const socketBuffer = 4 << 20
