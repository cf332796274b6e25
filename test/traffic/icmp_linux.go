//go:build linux

package traffic

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// IANA protocol numbers icmp.ParseMessage wants.
const (
	protoICMPv4 = 1
	protoICMPv6 = 58
)

// nextEchoID gives each exchange its own echo identifier: raw ICMP sockets
// see every echo reply of the namespace, so replies are matched by id.
var nextEchoID atomic.Uint32

func init() { nextEchoID.Store(uint32(os.Getpid()) << 4) }

// ICMP sends count echo requests from src to dst, one at a time, each
// waiting for its reply, over a raw ICMP socket bound to src's address.
func ICMP(ctx context.Context, src, dst Host, fam Family, count int) (Conn, error) {
	if count < 1 {
		return Conn{}, fmt.Errorf("invalid count %d: want >= 1", count)
	}
	proto, network, reqType, repType := ProtoICMPv4, "ip4:icmp", icmp.Type(ipv4.ICMPTypeEcho), icmp.Type(ipv4.ICMPTypeEchoReply)
	if fam == IPv6 {
		proto, network, reqType, repType = ProtoICMPv6, "ip6:ipv6-icmp", ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
	}
	c, err := describe(KindICMP, proto, src, dst, fam, 0)
	if err != nil {
		return c, err
	}
	c.ICMPID = uint16(nextEchoID.Add(1))
	var pc *icmp.PacketConn
	err = src.Netns.Do(func() error {
		var err error
		pc, err = icmp.ListenPacket(network, c.Src.IP.String())
		return err
	})
	if err != nil {
		return c, fmt.Errorf("open %s socket: %w", network, err)
	}
	defer pc.Close()
	for seq := 1; seq <= count; seq++ {
		if err := echo(ctx, pc, &c, seq, reqType, repType); err != nil {
			return c, fmt.Errorf("%s: echo %d: %w", c, seq, err)
		}
	}
	c.End = time.Now()
	return c, nil
}

func echo(ctx context.Context, pc *icmp.PacketConn, c *Conn, seq int, reqType, repType icmp.Type) error {
	msg := icmp.Message{Type: reqType, Body: &icmp.Echo{ID: int(c.ICMPID), Seq: seq, Data: []byte("fovea")}}
	// A nil pseudo-header leaves the ICMPv6 checksum to the kernel.
	b, err := msg.Marshal(nil)
	if err != nil {
		return fmt.Errorf("marshal request: %w", err)
	}
	defer interruptOn(ctx, pc)()
	if _, err := pc.WriteTo(b, &net.IPAddr{IP: c.Dst.IP.AsSlice()}); err != nil {
		return fmt.Errorf("send request: %w", err)
	}
	c.Requests++
	protocol := protoICMPv4
	if c.Proto == ProtoICMPv6 {
		protocol = protoICMPv6
	}
	buf := make([]byte, 1500)
	for {
		n, peer, err := pc.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("read reply: %w", err)
		}
		if from, ok := peer.(*net.IPAddr); !ok || !from.IP.Equal(c.Dst.IP.AsSlice()) {
			continue
		}
		reply, err := icmp.ParseMessage(protocol, buf[:n])
		if err != nil || reply.Type != repType {
			continue
		}
		if e, ok := reply.Body.(*icmp.Echo); ok && e.ID == int(c.ICMPID) && e.Seq == seq {
			c.Replies++
			return nil
		}
	}
}
