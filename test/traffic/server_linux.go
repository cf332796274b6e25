//go:build linux

package traffic

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
)

// maxLine bounds a request line so a misbehaving client cannot grow buffers.
const maxLine = 4096

// Server answers the generators inside one pod: on TCPPort every request
// line gets a response line, on UDPPort every datagram gets a datagram back.
type Server struct {
	host   Host
	logger *slog.Logger
	stop   func() bool

	listeners []net.Listener
	packets   []net.PacketConn
	wg        sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// Serve starts the servers on every address of host. They stop when ctx is
// done or Close is called.
func Serve(ctx context.Context, host Host, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if host.Netns == nil {
		return nil, fmt.Errorf("serve %s: invalid Host.Netns: nil", host.Name)
	}
	s := &Server{host: host, logger: logger.With("host", host.Name), conns: map[net.Conn]struct{}{}}
	err := host.Netns.Do(func() error {
		var lc net.ListenConfig
		for _, ip := range []netip.Addr{host.IPv4, host.IPv6} {
			if !ip.IsValid() {
				continue
			}
			ln, err := lc.Listen(ctx, "tcp", netip.AddrPortFrom(ip, TCPPort).String())
			if err != nil {
				return fmt.Errorf("listen tcp: %w", err)
			}
			s.listeners = append(s.listeners, ln)
			pc, err := lc.ListenPacket(ctx, "udp", netip.AddrPortFrom(ip, UDPPort).String())
			if err != nil {
				return fmt.Errorf("listen udp: %w", err)
			}
			s.packets = append(s.packets, pc)
		}
		return nil
	})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("serve %s: %w", host.Name, err)
	}
	for _, ln := range s.listeners {
		s.wg.Go(func() { s.acceptLoop(ln) })
	}
	for _, pc := range s.packets {
		s.wg.Go(func() { s.udpLoop(pc) })
	}
	s.stop = context.AfterFunc(ctx, s.Close)
	return s, nil
}

// Close stops the servers and waits for their goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for _, ln := range s.listeners {
		_ = ln.Close()
	}
	for _, pc := range s.packets {
		_ = pc.Close()
	}
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	if s.stop != nil {
		s.stop()
	}
	s.wg.Wait()
}

func (s *Server) acceptLoop(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.logger.Warn("accept failed", "err", err)
			}
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() {
			s.serveTCP(conn)
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
			_ = conn.Close()
		})
	}
}

// serveTCP answers each request line until the client closes.
func (s *Server) serveTCP(conn net.Conn) {
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 256), maxLine)
	for sc.Scan() {
		if _, err := fmt.Fprintf(conn, "ok %s\n", sc.Bytes()); err != nil {
			return
		}
	}
}

func (s *Server) udpLoop(pc net.PacketConn) {
	buf := make([]byte, maxLine)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.logger.Warn("udp read failed", "err", err)
			}
			return
		}
		if _, err := pc.WriteTo(append([]byte("ok "), buf[:n]...), addr); err != nil {
			s.logger.Warn("udp reply failed", "peer", addr, "err", err)
		}
	}
}
