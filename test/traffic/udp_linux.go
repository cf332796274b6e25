//go:build linux

package traffic

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// UDP sends one datagram from src to dst's UDPPort and waits for the answer.
func UDP(ctx context.Context, src, dst Host, fam Family) (Conn, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	c, err := describe(KindUDP, ProtoUDP, src, dst, fam, UDPPort)
	if err != nil {
		return c, err
	}
	var conn *net.UDPConn
	err = src.Netns.Do(func() error {
		var err error
		conn, err = net.DialUDP("udp",
			net.UDPAddrFromAddrPort(netip.AddrPortFrom(c.Src.IP, 0)),
			net.UDPAddrFromAddrPort(netip.AddrPortFrom(c.Dst.IP, UDPPort)))
		return err
	})
	if err != nil {
		return c, fmt.Errorf("dial %s: %w", c, err)
	}
	defer conn.Close()
	c.Src.Port = conn.LocalAddr().(*net.UDPAddr).AddrPort().Port()
	defer interruptOn(ctx, conn)()
	const payload = "hello"
	if _, err := conn.Write([]byte(payload)); err != nil {
		return c, fmt.Errorf("%s: send request: %w", c, err)
	}
	c.Requests++
	buf := make([]byte, 64)
	n, err := conn.Read(buf)
	if err != nil {
		return c, fmt.Errorf("%s: read response: %w", c, err)
	}
	if got, want := string(buf[:n]), "ok "+payload; got != want {
		return c, fmt.Errorf("%s: response %q, want %q", c, got, want)
	}
	c.Replies++
	c.End = time.Now()
	return c, nil
}
