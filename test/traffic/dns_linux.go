//go:build linux

package traffic

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// DNSPort is where DNS servers listen: the port the datapath parses.
const DNSPort uint16 = 53

// KindDNS names a DNS lookup.
const KindDNS Kind = "dns"

// DNSServer answers a Zone over UDP and TCP on DNSPort of every address of
// one pod.
type DNSServer struct {
	servers []*mdns.Server
	wg      sync.WaitGroup
	stop    func() bool
	once    sync.Once
}

// ServeDNS starts answering zone inside host's network namespace. The
// servers stop when ctx is done or Close is called.
func ServeDNS(ctx context.Context, host Host, zone *Zone, logger *slog.Logger) (*DNSServer, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if host.Netns == nil {
		return nil, fmt.Errorf("serve DNS on %s: invalid Host.Netns: nil", host.Name)
	}
	if zone == nil {
		return nil, fmt.Errorf("serve DNS on %s: nil zone", host.Name)
	}
	s := &DNSServer{}
	err := host.Netns.Do(func() error {
		var lc net.ListenConfig
		for _, ip := range []netip.Addr{host.IPv4, host.IPv6} {
			if !ip.IsValid() {
				continue
			}
			addr := netip.AddrPortFrom(ip, DNSPort).String()
			pc, err := lc.ListenPacket(ctx, "udp", addr)
			if err != nil {
				return fmt.Errorf("listen udp: %w", err)
			}
			s.servers = append(s.servers, &mdns.Server{PacketConn: pc, Handler: zone})
			ln, err := lc.Listen(ctx, "tcp", addr)
			if err != nil {
				return fmt.Errorf("listen tcp: %w", err)
			}
			s.servers = append(s.servers, &mdns.Server{Listener: ln, Handler: zone})
		}
		return nil
	})
	if err != nil {
		s.closeSockets()
		return nil, fmt.Errorf("serve DNS on %s: %w", host.Name, err)
	}
	log := logger.With("host", host.Name)
	for _, srv := range s.servers {
		s.wg.Go(func() {
			if err := srv.ActivateAndServe(); err != nil && !errors.Is(err, net.ErrClosed) {
				log.Warn("DNS server failed", "err", err)
			}
		})
	}
	s.stop = context.AfterFunc(ctx, s.Close)
	return s, nil
}

// Close stops the servers and waits for them.
func (s *DNSServer) Close() {
	s.once.Do(func() {
		for _, srv := range s.servers {
			// Shutdown fails only for a server that is not running yet;
			// closing its sockets stops it all the same.
			if err := srv.Shutdown(); err != nil {
				s.closeSocket(srv)
			}
		}
		s.stop()
		s.wg.Wait()
	})
}

func (s *DNSServer) closeSockets() {
	for _, srv := range s.servers {
		s.closeSocket(srv)
	}
}

func (s *DNSServer) closeSocket(srv *mdns.Server) {
	if srv.PacketConn != nil {
		_ = srv.PacketConn.Close()
	}
	if srv.Listener != nil {
		_ = srv.Listener.Close()
	}
}

// Lookup is one DNS exchange and what it answered.
type Lookup struct {
	// Conn is the exchange's 5-tuple: Src the client socket, Dst the
	// server's DNSPort; one query (Requests) and one response (Replies).
	Conn
	Name  string
	QType uint16
	Rcode int
	// Addrs are the A/AAAA answers, CNAMEs the CNAME targets, in order.
	Addrs  []netip.Addr
	CNAMEs []string
}

func (l Lookup) String() string {
	return fmt.Sprintf("%s %s %s rcode=%s addrs=%v cnames=%v", l.Conn, l.Name, mdns.TypeToString[l.QType],
		mdns.RcodeToString[l.Rcode], l.Addrs, l.CNAMEs)
}

// LookupDNS asks server's DNSPort for name (qtype, e.g. mdns.TypeA) from a
// socket in src over proto (ProtoUDP or ProtoTCP) and family fam.
func LookupDNS(ctx context.Context, src, server Host, fam Family, proto Proto, name string, qtype uint16) (Lookup, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	c, err := describe(KindDNS, proto, src, server, fam, DNSPort)
	l := Lookup{Conn: c, Name: mdns.Fqdn(name), QType: qtype}
	if err != nil {
		return l, err
	}
	network := strings.ToLower(string(proto))
	if proto != ProtoUDP && proto != ProtoTCP {
		return l, fmt.Errorf("dns lookup: invalid proto %q: want UDP or TCP", proto)
	}
	var conn net.Conn
	err = src.Netns.Do(func() error {
		d := net.Dialer{LocalAddr: localAddr(network, c.Src.IP)}
		var err error
		conn, err = d.DialContext(ctx, network, netip.AddrPortFrom(c.Dst.IP, DNSPort).String())
		return err
	})
	if err != nil {
		return l, fmt.Errorf("dial %s: %w", l.Conn, err)
	}
	defer conn.Close()
	l.Src.Port = netip.MustParseAddrPort(conn.LocalAddr().String()).Port()
	defer interruptOn(ctx, conn)()
	q := new(mdns.Msg)
	q.SetQuestion(l.Name, qtype)
	client := mdns.Client{Net: network, Timeout: DefaultTimeout}
	l.Requests++
	r, _, err := client.ExchangeWithConnContext(ctx, q, &mdns.Conn{Conn: conn})
	if err != nil {
		return l, fmt.Errorf("%s: exchange: %w", l, err)
	}
	l.Replies++
	l.End = time.Now()
	l.Rcode = r.Rcode
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *mdns.A:
			a, _ := netip.AddrFromSlice(rr.A.To4())
			l.Addrs = append(l.Addrs, a)
		case *mdns.AAAA:
			a, _ := netip.AddrFromSlice(rr.AAAA.To16())
			l.Addrs = append(l.Addrs, a)
		case *mdns.CNAME:
			l.CNAMEs = append(l.CNAMEs, rr.Target)
		}
	}
	return l, nil
}

func localAddr(network string, ip netip.Addr) net.Addr {
	if network == "tcp" {
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, 0))
	}
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0))
}
