//go:build linux

package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/test/traffic"
)

// connFlows finds the flows of c in flows: requests (src→dst) and replies
// (dst→src), matched on addresses, ports and protocol.
func connFlows(c traffic.Conn, flows []*flowpb.Flow) (requests, replies []*flowpb.Flow) {
	for _, f := range flows {
		src, dst := f.GetIP().GetSource(), f.GetIP().GetDestination()
		sp, dp := ports(f)
		switch {
		case src == c.Src.IP.String() && dst == c.Dst.IP.String() && sp == c.Src.Port && dp == c.Dst.Port:
			requests = append(requests, f)
		case src == c.Dst.IP.String() && dst == c.Src.IP.String() && sp == c.Dst.Port && dp == c.Src.Port:
			replies = append(replies, f)
		}
	}
	return requests, replies
}

func ports(f *flowpb.Flow) (uint16, uint16) {
	switch l4 := f.GetL4(); {
	case l4.GetTCP() != nil:
		return uint16(l4.GetTCP().GetSourcePort()), uint16(l4.GetTCP().GetDestinationPort())
	case l4.GetUDP() != nil:
		return uint16(l4.GetUDP().GetSourcePort()), uint16(l4.GetUDP().GetDestinationPort())
	}
	return 0, 0
}

// TestFlowsForEveryConnection generates each kind of traffic, same node and
// across nodes, IPv4 and IPv6, and checks that both agents on the path show
// its requests with is_reply=false and its replies with is_reply=true.
func TestFlowsForEveryConnection(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	type gen func(context.Context, traffic.Host, traffic.Host, traffic.Family) (traffic.Conn, error)
	kinds := map[string]gen{
		"tcp":     traffic.TCPShort,
		"udp":     traffic.UDP,
		"refused": traffic.TCPRefused,
		"icmp": func(ctx context.Context, s, d traffic.Host, f traffic.Family) (traffic.Conn, error) {
			return traffic.ICMP(ctx, s, d, f, 1)
		},
	}
	pairs := map[string][2]int{"same-node": {0, 1}, "cross-node": {0, 2}}
	for kind, run := range kinds {
		for where, pair := range pairs {
			for _, fam := range []traffic.Family{traffic.IPv4, traffic.IPv6} {
				t.Run(fmt.Sprintf("%s/%s/%s", kind, where, fam), func(t *testing.T) {
					src, srcSock := e.pod(pair[0])
					dst, dstSock := e.pod(pair[1])
					c, err := run(ctx, src, dst, fam)
					if err != nil {
						t.Fatalf("generate %s: %v", kind, err)
					}
					for _, sock := range uniq(srcSock, dstSock) {
						eventually(t, 10*time.Second, func() error {
							flows := e.observeJSON(t, sock, "--last", "100000", "--ip", c.Src.IP.String(), "--ip", c.Dst.IP.String())
							return checkConn(c, flows)
						})
					}
				})
			}
		}
	}
}

func uniq(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

func checkConn(c traffic.Conn, flows []*flowpb.Flow) error {
	if c.Proto == traffic.ProtoICMPv4 || c.Proto == traffic.ProtoICMPv6 {
		return checkICMP(c, flows)
	}
	requests, replies := connFlows(c, flows)
	if len(requests) == 0 || len(replies) == 0 {
		return fmt.Errorf("%s: %d request and %d reply flows among:%s", c, len(requests), len(replies), describe(flows))
	}
	for _, f := range requests {
		if f.GetIsReply() == nil || f.GetIsReply().GetValue() {
			return fmt.Errorf("%s: request flow has is_reply %v", c, f.GetIsReply())
		}
	}
	for _, f := range replies {
		if f.GetIsReply() == nil || !f.GetIsReply().GetValue() {
			return fmt.Errorf("%s: reply flow has is_reply %v", c, f.GetIsReply())
		}
	}
	if c.Kind == traffic.KindTCPRefused && !hasSummary(replies, "TCP Flags: ACK, RST") && !hasSummary(replies, "TCP Flags: RST") {
		return fmt.Errorf("%s: no RST among the replies:%s", c, describe(replies))
	}
	return nil
}

// checkICMP wants an echo request from Src (not a reply) and an echo reply
// from Dst (a reply).
func checkICMP(c traffic.Conn, flows []*flowpb.Flow) error {
	var request, reply bool
	for _, f := range flows {
		src, dst := f.GetIP().GetSource(), f.GetIP().GetDestination()
		isReply := f.GetIsReply()
		switch {
		case src == c.Src.IP.String() && dst == c.Dst.IP.String() && strings.HasSuffix(f.GetSummary(), "EchoRequest"):
			request = request || (isReply != nil && !isReply.GetValue())
		case src == c.Dst.IP.String() && dst == c.Src.IP.String() && strings.HasSuffix(f.GetSummary(), "EchoReply"):
			reply = reply || (isReply != nil && isReply.GetValue())
		}
	}
	if !request || !reply {
		return fmt.Errorf("%s: echo request (is_reply=false) seen %v, echo reply (is_reply=true) seen %v among:%s",
			c, request, reply, describe(flows))
	}
	return nil
}

func hasSummary(flows []*flowpb.Flow, s string) bool {
	for _, f := range flows {
		if f.GetSummary() == s {
			return true
		}
	}
	return false
}

// tcpConn makes one cross-node TCP connection and waits until its agent
// holds its flows.
func tcpConn(t *testing.T, e *env) (traffic.Conn, string) {
	t.Helper()
	src, sock := e.pod(0)
	dst, _ := e.pod(3)
	c, err := traffic.TCPShort(context.Background(), src, dst, traffic.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		return checkConn(c, e.observeJSON(t, sock, "--last", "100000", "--ip", c.Src.IP.String()))
	})
	return c, sock
}

func TestObserveFilters(t *testing.T) {
	e := setup(t)
	c, sock := tcpConn(t, e)
	srcPort := strconv.Itoa(int(c.Src.Port))
	base := []string{"--last", "100000", "--port", srcPort}

	t.Run("port and ip", func(t *testing.T) {
		// The CLI pairs --ip and --port per side: (source ip and source port)
		// or (destination ip and destination port), so both directions pass.
		flows := e.observeJSON(t, sock, append(base, "--ip", c.Src.IP.String())...)
		if requests, replies := connFlows(c, flows); len(requests) == 0 || len(replies) == 0 || len(requests)+len(replies) != len(flows) {
			t.Fatalf("--ip %s --port %s: want this connection's flows both ways, got:%s", c.Src.IP, srcPort, describe(flows))
		}
		if flows := e.observeJSON(t, sock, append(base, "--ip", c.Dst.IP.String())...); len(flows) != 0 {
			t.Fatalf("--ip <server> --port <client port> must match nothing, got:%s", describe(flows))
		}
	})
	t.Run("tcp-flags", func(t *testing.T) {
		flows := e.observeJSON(t, sock, append(base, "--tcp-flags", "SYN")...)
		if len(flows) == 0 {
			t.Fatal("no SYN flows")
		}
		for _, f := range flows {
			if !f.GetL4().GetTCP().GetFlags().GetSYN() {
				t.Fatalf("flow without SYN passed --tcp-flags SYN: %s", f.GetSummary())
			}
		}
	})
	t.Run("protocol and not", func(t *testing.T) {
		if n := len(e.observeJSON(t, sock, append(base, "--protocol", "tcp")...)); n == 0 {
			t.Fatal("--protocol tcp: no flows")
		}
		if flows := e.observeJSON(t, sock, append(base, "--not", "--protocol", "tcp")...); len(flows) != 0 {
			t.Fatalf("--not --protocol tcp passed TCP flows:%s", describe(flows))
		}
		if flows := e.observeJSON(t, sock, append(base, "--protocol", "udp")...); len(flows) != 0 {
			t.Fatalf("--protocol udp passed TCP flows:%s", describe(flows))
		}
	})
	t.Run("verdict", func(t *testing.T) {
		if n := len(e.observeJSON(t, sock, append(base, "--verdict", "FORWARDED")...)); n == 0 {
			t.Fatal("--verdict FORWARDED: no flows")
		}
		if flows := e.observeJSON(t, sock, append(base, "--verdict", "DROPPED")...); len(flows) != 0 {
			t.Fatalf("--verdict DROPPED passed forwarded flows:%s", describe(flows))
		}
	})
	t.Run("last", func(t *testing.T) {
		if n := len(e.observeJSON(t, sock, "--last", "3")); n != 3 {
			t.Fatalf("--last 3 gave %d flows", n)
		}
	})
	t.Run("since", func(t *testing.T) {
		if n := len(e.observeJSON(t, sock, "--since", "1m", "--port", srcPort)); n == 0 {
			t.Fatal("--since 1m: no flows of a connection made seconds ago")
		}
		if n := len(e.observeJSON(t, sock, "--since", time.Now().Add(time.Hour).Format(time.RFC3339), "--port", srcPort)); n != 0 {
			t.Fatalf("--since an hour ahead gave %d flows", n)
		}
	})
	t.Run("compact", func(t *testing.T) {
		out := e.hubble(t, sock, append([]string{"observe", "-o", "compact"}, base...)...)
		// The agents have an inventory, so hubble names the pod, not its IP.
		for _, want := range []string{c.Src.Host + ":" + srcPort, "TCP Flags: SYN", "FORWARDED", "->", "<-"} {
			if !strings.Contains(out, want) {
				t.Fatalf("compact output lacks %q:\n%s", want, out)
			}
		}
	})
}

// TestFollow starts `hubble observe --follow` and expects a connection made
// afterwards to show up while it runs.
func TestFollow(t *testing.T) {
	e := setup(t)
	src, sock := e.pod(1)
	dst, _ := e.pod(2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lines := e.follow(ctx, t, sock, "--ip", src.IPv4.String(), "--protocol", "udp")
	// The stream may start after the process does: exchange a datagram
	// each second, all made after hubble started, until one shows.
	var conns []traffic.Conn
	next := time.After(0)
	for {
		select {
		case <-next:
			c, err := traffic.UDP(ctx, src, dst, traffic.IPv4)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			next = time.After(time.Second)
		case line, ok := <-lines:
			if !ok {
				t.Fatal("hubble observe --follow ended")
			}
			flows := decodeFlows(t, line)
			for _, c := range conns {
				if requests, _ := connFlows(c, flows); len(requests) > 0 {
					return
				}
			}
		case <-ctx.Done():
			t.Fatalf("no flow of %d connections made while following within the deadline", len(conns))
		}
	}
}

func TestHubbleStatus(t *testing.T) {
	e := setup(t)
	_, sock := e.pod(0)
	out := e.hubble(t, sock, "status")
	for _, want := range []string{"Healthcheck (via unix://" + sock + "): Ok", "Current/Max Flows:", "/65,535"} {
		if !strings.Contains(out, want) {
			t.Fatalf("hubble status lacks %q:\n%s", want, out)
		}
	}
}

// TestLongLivedConnection wants flows of a TCP connection on every agent on
// its path while the connection is still open.
func TestLongLivedConnection(t *testing.T) {
	e := setup(t)
	src, srcSock := e.pod(1)
	dst, dstSock := e.pod(2)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	established := make(chan traffic.Conn, 1)
	done := make(chan error, 1)
	go func() {
		_, err := traffic.TCPLong(ctx, src, dst, traffic.IPv6, traffic.LongConfig{
			Interval:    100 * time.Millisecond,
			Established: func(c traffic.Conn) { established <- c },
		})
		done <- err
	}()
	var c traffic.Conn
	select {
	case c = <-established:
	case err := <-done:
		t.Fatalf("TCPLong: %v", err)
	}
	for _, sock := range uniq(srcSock, dstSock) {
		eventually(t, 10*time.Second, func() error {
			return checkConn(c, e.observeJSON(t, sock, "--last", "100000", "--ip", c.Src.IP.String()))
		})
	}
	select {
	case err := <-done:
		t.Fatalf("long-lived connection ended before its flows were checked: %v", err)
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("TCPLong: %v", err)
	}
}
