//go:build linux

package traffic

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// TCPShort opens a connection from src to dst's TCPPort, sends one request
// line, reads the response line and closes (client FIN first).
func TCPShort(ctx context.Context, src, dst Host, fam Family) (Conn, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	c, conn, err := dialTCP(ctx, KindTCPShort, src, dst, fam, TCPPort)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	if err := exchangeLine(ctx, conn, bufio.NewReader(conn), "hello", &c); err != nil {
		return c, fmt.Errorf("%s: %w", c, err)
	}
	if err := conn.Close(); err != nil {
		return c, fmt.Errorf("close %s: %w", c, err)
	}
	c.End = time.Now()
	return c, nil
}

// LongConfig tunes TCPLong.
type LongConfig struct {
	// Interval between request lines; DefaultLongInterval if zero.
	Interval time.Duration
	// Established, if set, is called once the connection is up, with its
	// description, so a caller can look for its flows while it lives.
	Established func(Conn)
}

// DefaultLongInterval is TCPLong's default pause between requests.
const DefaultLongInterval = time.Second

// TCPLong keeps one connection from src to dst's TCPPort open until ctx is
// done, exchanging a line every interval, then closes it. Ending by ctx is
// not an error.
func TCPLong(ctx context.Context, src, dst Host, fam Family, cfg LongConfig) (Conn, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultLongInterval
	}
	dialCtx, cancel := withDefaultTimeout(ctx)
	c, conn, err := dialTCP(dialCtx, KindTCPLong, src, dst, fam, TCPPort)
	cancel()
	if err != nil {
		return c, err
	}
	defer conn.Close()
	if cfg.Established != nil {
		cfg.Established(c)
	}
	r := bufio.NewReader(conn)
	ticker := time.NewTicker(cfg.Interval)
	defer ticker.Stop()
	for done := false; !done; {
		// An exchange in flight completes (it is bounded by
		// DefaultTimeout) so every request sent has its reply.
		if err := exchangeLine(context.WithoutCancel(ctx), conn, r, fmt.Sprintf("tick %d", c.Requests), &c); err != nil {
			return c, fmt.Errorf("%s: %w", c, err)
		}
		select {
		case <-ctx.Done():
			done = true
		case <-ticker.C:
		}
	}
	if err := conn.Close(); err != nil {
		return c, fmt.Errorf("close %s: %w", c, err)
	}
	c.End = time.Now()
	return c, nil
}

// dialTCP connects from src's address of fam inside src's namespace.
func dialTCP(ctx context.Context, kind Kind, src, dst Host, fam Family, port uint16) (Conn, *net.TCPConn, error) {
	c, err := describe(kind, ProtoTCP, src, dst, fam, port)
	if err != nil {
		return c, nil, err
	}
	var conn net.Conn
	err = src.Netns.Do(func() error {
		d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(c.Src.IP, 0))}
		var err error
		conn, err = d.DialContext(ctx, "tcp", netip.AddrPortFrom(c.Dst.IP, port).String())
		return err
	})
	if err != nil {
		return c, nil, fmt.Errorf("dial %s: %w", c, err)
	}
	c.Src.Port = conn.LocalAddr().(*net.TCPAddr).AddrPort().Port()
	return c, conn.(*net.TCPConn), nil
}

// exchangeLine sends line and reads the server's answer, counting both.
func exchangeLine(ctx context.Context, conn net.Conn, r *bufio.Reader, line string, c *Conn) error {
	defer interruptOn(ctx, conn)()
	if _, err := fmt.Fprintf(conn, "%s\n", line); err != nil {
		return fmt.Errorf("send request: %w", err)
	}
	c.Requests++
	got, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if want := "ok " + line + "\n"; got != want {
		return fmt.Errorf("response %q, want %q", got, want)
	}
	c.Replies++
	return nil
}

// describe fills the parts of a Conn known before any packet is sent.
func describe(kind Kind, proto Proto, src, dst Host, fam Family, port uint16) (Conn, error) {
	c := Conn{Kind: kind, Proto: proto, Start: time.Now()}
	srcIP, err := src.Addr(fam)
	if err != nil {
		return c, fmt.Errorf("%s source: %w", kind, err)
	}
	dstIP, err := dst.Addr(fam)
	if err != nil {
		return c, fmt.Errorf("%s destination: %w", kind, err)
	}
	if src.Netns == nil {
		return c, fmt.Errorf("%s source %s: invalid Host.Netns: nil", kind, src.Name)
	}
	c.Src = Endpoint{Host: src.Name, IP: srcIP}
	c.Dst = Endpoint{Host: dst.Name, IP: dstIP, Port: port}
	return c, nil
}

// deadliner is the part of net.Conn and net.PacketConn interruptOn needs.
type deadliner interface {
	SetDeadline(t time.Time) error
}

// interruptOn bounds I/O on conn by DefaultTimeout and interrupts it when
// ctx ends. It never copies ctx's deadline onto the socket: ctx.Err is set
// before the interruption, so callers can tell "ctx ended" from a failure.
// The returned func stops watching ctx.
func interruptOn(ctx context.Context, conn deadliner) func() bool {
	_ = conn.SetDeadline(time.Now().Add(DefaultTimeout))
	return context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
}

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, DefaultTimeout)
}
