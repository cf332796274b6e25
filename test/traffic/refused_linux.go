//go:build linux

package traffic

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// TCPRefused connects from src to dst's ClosedPort and expects the RST that
// refuses it; it fails if the connection is accepted or times out. The
// source port is bound before connecting so the SYN/RST pair is described;
// the Conn counts the SYN as its request and the RST as its reply.
func TCPRefused(ctx context.Context, src, dst Host, fam Family) (Conn, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	c, err := describe(KindTCPRefused, ProtoTCP, src, dst, fam, ClosedPort)
	if err != nil {
		return c, err
	}
	var conn net.Conn
	err = src.Netns.Do(func() error {
		d := net.Dialer{Control: func(_, _ string, raw syscall.RawConn) error {
			var bindErr error
			if err := raw.Control(func(fd uintptr) {
				c.Src.Port, bindErr = bindEphemeral(int(fd), c.Src.IP)
			}); err != nil {
				return err
			}
			return bindErr
		}}
		var err error
		conn, err = d.DialContext(ctx, "tcp", netip.AddrPortFrom(c.Dst.IP, ClosedPort).String())
		return err
	})
	c.Requests = 1
	switch {
	case err == nil:
		_ = conn.Close()
		return c, fmt.Errorf("%s: connection accepted, want refused", c)
	case errors.Is(err, syscall.ECONNREFUSED):
		c.Replies = 1
		c.End = time.Now()
		return c, nil
	default:
		return c, fmt.Errorf("%s: want connection refused: %w", c, err)
	}
}

// bindEphemeral binds fd to ip with a kernel-chosen port and returns it.
func bindEphemeral(fd int, ip netip.Addr) (uint16, error) {
	var sa unix.Sockaddr
	if ip.Is4() {
		sa = &unix.SockaddrInet4{Addr: ip.As4()}
	} else {
		sa = &unix.SockaddrInet6{Addr: ip.As16()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return 0, fmt.Errorf("bind %s: %w", ip, err)
	}
	bound, err := unix.Getsockname(fd)
	if err != nil {
		return 0, fmt.Errorf("getsockname: %w", err)
	}
	switch a := bound.(type) {
	case *unix.SockaddrInet4:
		return uint16(a.Port), nil
	case *unix.SockaddrInet6:
		return uint16(a.Port), nil
	default:
		return 0, fmt.Errorf("getsockname: unexpected address %T", bound)
	}
}
