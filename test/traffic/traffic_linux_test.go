//go:build linux

package traffic_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/traffic"
)

// testPrefix differs from other test packages' so `go test ./test/...`
// can build clusters in parallel.
const testPrefix = "fvttraffic-"

func buildCluster(t *testing.T) *cluster.Cluster {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	if err := cluster.Cleanup(t.Context(), testPrefix, nil); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	c, err := cluster.Build(t.Context(), cluster.Config{Prefix: testPrefix, StateDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

func serveAll(t *testing.T, hosts []traffic.Host) {
	t.Helper()
	for _, h := range hosts {
		s, err := traffic.Serve(t.Context(), h, nil)
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
		t.Cleanup(s.Close)
	}
}

func TestGenerators(t *testing.T) {
	c := buildCluster(t)
	hosts := c.Hosts()
	serveAll(t, hosts)
	// hosts[0] and hosts[1] share node1; hosts[2] is on node2.
	pairs := map[string][2]traffic.Host{
		"same-node":  {hosts[0], hosts[1]},
		"cross-node": {hosts[0], hosts[2]},
	}
	generators := map[traffic.Kind]func(context.Context, traffic.Host, traffic.Host, traffic.Family) (traffic.Conn, error){
		traffic.KindTCPShort:   traffic.TCPShort,
		traffic.KindUDP:        traffic.UDP,
		traffic.KindTCPRefused: traffic.TCPRefused,
		traffic.KindICMP: func(ctx context.Context, src, dst traffic.Host, fam traffic.Family) (traffic.Conn, error) {
			return traffic.ICMP(ctx, src, dst, fam, 2)
		},
	}
	for pairName, pair := range pairs {
		for _, fam := range []traffic.Family{traffic.IPv4, traffic.IPv6} {
			for kind, gen := range generators {
				t.Run(pairName+"/"+fam.String()+"/"+string(kind), func(t *testing.T) {
					src, dst := pair[0], pair[1]
					conn, err := gen(t.Context(), src, dst, fam)
					if err != nil {
						t.Fatalf("%s: %v", kind, err)
					}
					checkConn(t, conn, kind, src, dst, fam)
				})
			}
		}
	}
}

func checkConn(t *testing.T, c traffic.Conn, kind traffic.Kind, src, dst traffic.Host, fam traffic.Family) {
	t.Helper()
	srcIP, _ := src.Addr(fam)
	dstIP, _ := dst.Addr(fam)
	if c.Kind != kind || c.Src.Host != src.Name || c.Dst.Host != dst.Name || c.Src.IP != srcIP || c.Dst.IP != dstIP {
		t.Errorf("conn %s does not describe %s %s -> %s over %s", c, kind, src.Name, dst.Name, fam)
	}
	if c.Requests == 0 || c.Replies != c.Requests {
		t.Errorf("conn %s: want every request answered", c)
	}
	if c.End.Before(c.Start) {
		t.Errorf("conn %s: end %s before start %s", c, c.End, c.Start)
	}
	switch kind {
	case traffic.KindICMP:
		if c.ICMPID == 0 || c.Src.Port != 0 || c.Dst.Port != 0 {
			t.Errorf("conn %s: want echo id and no ports", c)
		}
		want := map[traffic.Family]traffic.Proto{traffic.IPv4: traffic.ProtoICMPv4, traffic.IPv6: traffic.ProtoICMPv6}[fam]
		if c.Proto != want {
			t.Errorf("conn %s: proto %s, want %s", c, c.Proto, want)
		}
	default:
		if c.Src.Port == 0 || c.Dst.Port == 0 {
			t.Errorf("conn %s: want both ports", c)
		}
	}
}

func TestTCPLong(t *testing.T) {
	c := buildCluster(t)
	hosts := c.Hosts()
	serveAll(t, hosts)
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	var established traffic.Conn
	conn, err := traffic.TCPLong(ctx, hosts[0], hosts[3], traffic.IPv6, traffic.LongConfig{
		Interval:    50 * time.Millisecond,
		Established: func(c traffic.Conn) { established = c },
	})
	if err != nil {
		t.Fatalf("TCPLong: %v", err)
	}
	checkConn(t, conn, traffic.KindTCPLong, hosts[0], hosts[3], traffic.IPv6)
	if conn.Requests < 5 {
		t.Errorf("conn %s: want about 10 requests in 500ms at 50ms", conn)
	}
	if established.Src != conn.Src || established.Dst != conn.Dst {
		t.Errorf("Established saw %s, final %s", established, conn)
	}
}

func TestTCPRefusedFailsWhenNothingAnswers(t *testing.T) {
	c := buildCluster(t)
	hosts := c.Hosts()
	// No servers and an address nothing owns inside node2's pod CIDR: the
	// blackhole route drops the SYN, so the connect must time out, not
	// pass as refused.
	ghost := hosts[2]
	ghost.IPv4 = ghost.IPv4.Next().Next().Next().Next().Next().Next().Next().Next()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if conn, err := traffic.TCPRefused(ctx, hosts[0], ghost, traffic.IPv4); err == nil {
		t.Fatalf("TCPRefused to %s succeeded: %s", ghost.IPv4, conn)
	}
	if _, err := traffic.TCPShort(t.Context(), hosts[0], hosts[2], traffic.IPv4); err == nil {
		t.Fatal("TCPShort without a server succeeded")
	}
}

func TestRunMix(t *testing.T) {
	c := buildCluster(t)
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	var mu sync.Mutex
	kinds := map[traffic.Kind]int{}
	var failures []error
	err := traffic.RunMix(ctx, traffic.MixConfig{
		Hosts:        c.Hosts(),
		Rate:         40,
		LongInterval: 100 * time.Millisecond,
		Seed:         1,
		Observe: func(conn traffic.Conn, err error) {
			mu.Lock()
			defer mu.Unlock()
			kinds[conn.Kind]++
			if err != nil && !errors.Is(err, traffic.ErrSkipped) {
				failures = append(failures, err)
			}
		},
	})
	if err != nil {
		t.Fatalf("RunMix: %v", err)
	}
	for _, err := range failures {
		t.Errorf("generated connection failed: %v", err)
	}
	for _, k := range []traffic.Kind{traffic.KindTCPShort, traffic.KindUDP, traffic.KindICMP, traffic.KindTCPRefused, traffic.KindTCPLong, traffic.KindDNS} {
		if kinds[k] == 0 {
			t.Errorf("mix produced no %s connection (got %v)", k, kinds)
		}
	}
}
