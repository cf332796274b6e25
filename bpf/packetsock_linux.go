//go:build linux

package bpf

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	netbpf "golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// ErrInterfaceGone is what PacketSocket.Read returns once its interface was
// deleted or taken down: the kernel unbinds the socket and delivers nothing
// more.
var ErrInterfaceGone = errors.New("read packet: interface gone")

// ErrNoPacket is what PacketSocket.Read returns when no packet came within
// the socket's read timeout.
var ErrNoPacket = errors.New("read packet: none within the timeout")

// PacketSocket is an AF_PACKET socket bound to one interface with a classic
// BPF filter that runs in the kernel, so only the packets it accepts, cut to
// the length it returns, are copied to user space.
type PacketSocket struct {
	fd  int
	oob []byte
	// drops accumulates the kernel's drop counter, which reading resets.
	packets, drops uint64
}

// PacketInfo describes a packet Read returned.
type PacketInfo struct {
	// Captured is how many bytes of the packet are in the buffer; Length
	// is its length on the wire.
	Captured, Length int
	Time             time.Time
}

// OpenPacketSocket opens a packet socket on the interface ifindex running
// filter, with a receive buffer of rcvbuf bytes (the bound on what waits in
// the kernel) and reads that wait at most timeout. The filter is attached
// before the socket is bound, so no packet reaches it unfiltered.
func OpenPacketSocket(ifindex int, filter []netbpf.RawInstruction, rcvbuf int, timeout time.Duration) (*PacketSocket, error) {
	if len(filter) == 0 {
		return nil, errors.New("open packet socket: empty filter")
	}
	// Protocol 0 receives nothing until bind names one.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open packet socket: %w", err)
	}
	s := &PacketSocket{fd: fd, oob: make([]byte, 256)}
	if err := s.setup(ifindex, filter, rcvbuf, timeout); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return s, nil
}

func (s *PacketSocket) setup(ifindex int, filter []netbpf.RawInstruction, rcvbuf int, timeout time.Duration) error {
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: (*unix.SockFilter)(unsafe.Pointer(&filter[0]))}
	if err := unix.SetsockoptSockFprog(s.fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); err != nil {
		return fmt.Errorf("attach packet filter: %w", err)
	}
	if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf); err != nil {
		return fmt.Errorf("set packet socket buffer: %w", err)
	}
	// The kernel's receive time, and the length before the filter cut
	// the packet (tp_len), come with each packet.
	if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fmt.Errorf("enable packet timestamps: %w", err)
	}
	if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		return fmt.Errorf("enable packet auxiliary data: %w", err)
	}
	tv := unix.NsecToTimeval(timeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(s.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("set packet socket timeout: %w", err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}
	if err := unix.Bind(s.fd, sa); err != nil {
		return fmt.Errorf("bind packet socket to interface %d: %w", ifindex, err)
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Read reads the next packet into buf, waiting at most the socket's
// timeout (then ErrNoPacket).
func (s *PacketSocket) Read(buf []byte) (PacketInfo, error) {
	for {
		n, oobn, flags, _, err := unix.Recvmsg(s.fd, buf, s.oob, unix.MSG_TRUNC)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			return PacketInfo{}, ErrNoPacket
		case errors.Is(err, unix.ENETDOWN), errors.Is(err, unix.ENXIO), errors.Is(err, unix.ENODEV):
			return PacketInfo{}, ErrInterfaceGone
		case err != nil:
			return PacketInfo{}, fmt.Errorf("read packet: %w", err)
		}
		info := PacketInfo{Captured: min(n, len(buf)), Length: n}
		if flags&unix.MSG_CTRUNC == 0 {
			s.parseControl(s.oob[:oobn], &info)
		}
		if info.Time.IsZero() {
			info.Time = time.Now()
		}
		return info, nil
	}
}

// parseControl reads the receive time and wire length from the control
// messages.
func (s *PacketSocket) parseControl(oob []byte, info *PacketInfo) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})):
			ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
			info.Time = time.Unix(ts.Unix())
		case m.Header.Level == unix.SOL_PACKET && m.Header.Type == unix.PACKET_AUXDATA && len(m.Data) >= int(unsafe.Sizeof(unix.TpacketAuxdata{})):
			aux := (*unix.TpacketAuxdata)(unsafe.Pointer(&m.Data[0]))
			info.Length = int(aux.Len)
		}
	}
}

// Stats returns the packets the socket received and those the kernel
// dropped for want of buffer space, since it was opened.
func (s *PacketSocket) Stats() (packets, drops uint64, err error) {
	st, err := unix.GetsockoptTpacketStats(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return s.packets, s.drops, fmt.Errorf("read packet socket statistics: %w", err)
	}
	// The kernel counts drops in tp_packets too, and resets both.
	s.packets += uint64(st.Packets)
	s.drops += uint64(st.Drops)
	return s.packets, s.drops, nil
}

// Close closes the socket.
func (s *PacketSocket) Close() error {
	if err := unix.Close(s.fd); err != nil {
		return fmt.Errorf("close packet socket: %w", err)
	}
	return nil
}
