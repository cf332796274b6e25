//go:build linux

package soak

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/foveanet/fovea/test/testca"
)

// attackWindow is how long each attack lasts.
func attackWindow(t *testing.T) time.Duration {
	if long(t) {
		return 30 * time.Second
	}
	return 4 * time.Second
}

// dialFrom connects to a TCP target from the loopback address src: the
// server tells clients apart by address.
func dialFrom(t *testing.T, target, src string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	opts = append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }),
	}, opts...)
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestHostileClients attacks a serving agent over TCP, one attack at a
// time, while a well-behaved client from another address measures its own
// latency: each attack must be refused with a clear error and the
// well-behaved client served throughout.
func TestHostileClients(t *testing.T) {
	a := startAgent(t, agentOpts{rate: 5000, tcp: true, args: []string{"--handshake-timeout=2s"}})
	good := dialFrom(t, a.tcp, "127.0.0.2")
	d := attackWindow(t)
	measure(t, a, good, "no attack", d, func(context.Context) {})

	t.Run("oversized requests", func(t *testing.T) {
		client := observerpb.NewObserverClient(dialFrom(t, a.tcp, "127.0.0.1"))
		// Over the default --max-request-bytes of 1 MiB.
		req := &observerpb.GetFlowsRequest{Whitelist: []*flowpb.FlowFilter{{SourcePod: []string{strings.Repeat("p", 1<<20)}}}}
		var refused, other atomic.Int64
		measure(t, a, good, "1 MiB+ requests, 4 loops", d, func(ctx context.Context) {
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for ctx.Err() == nil {
						err := recvOne(ctx, client, req)
						switch {
						case status.Code(err) == codes.ResourceExhausted:
							refused.Add(1)
						// gRPC fails calls past ctx's deadline before
						// ctx's own timer fires.
						case ctx.Err() == nil && status.Code(err) != codes.DeadlineExceeded:
							other.Add(1)
							t.Errorf("oversized request: %v", err)
						}
					}
				})
			}
			wg.Wait()
		})
		t.Logf("%d oversized requests refused with RESOURCE_EXHAUSTED", refused.Load())
		if refused.Load() == 0 || other.Load() > 0 {
			t.Fatalf("refused %d, other outcomes %d", refused.Load(), other.Load())
		}
	})

	t.Run("10k streams from one client", func(t *testing.T) {
		var held, refused int64
		var closeAll func()
		attack, stop := context.WithTimeout(context.Background(), time.Minute)
		defer stop()
		// A filter nothing matches: a held stream costs the server a
		// reader and sends nothing but its headers.
		req := &observerpb.GetFlowsRequest{Follow: true, Whitelist: []*flowpb.FlowFilter{{SourcePod: []string{"nobody/none"}}}}
		measure(t, a, good, "opening 10k streams", 0, func(context.Context) {
			held, refused, closeAll = rawStreams(t, attack, a.tcp, 10, 10000, req)
		})
		measure(t, a, good, "holding 1000 streams", d, func(context.Context) {})
		closeAll()
		t.Logf("10000 streams: %d held, %d refused with RESOURCE_EXHAUSTED", held, refused)
		// --max-streams-per-client's default.
		if held != 1000 || refused != 9000 {
			t.Fatalf("held %d, refused %d: want 1000 and 9000", held, refused)
		}
	})

	t.Run("silent connections", func(t *testing.T) {
		const n = 1000
		var closed atomic.Int64
		measure(t, a, good, "1000 silent TCP connections", d+2*time.Second, func(ctx context.Context) {
			closed.Store(silentConns(t, a.tcp, n, 10*time.Second))
		})
		if closed.Load() != n {
			t.Fatalf("%d of %d silent connections closed by the server", closed.Load(), n)
		}
	})
}

// recvOne opens a GetFlows stream for req and returns its first error.
func recvOne(ctx context.Context, client observerpb.ObserverClient, req *observerpb.GetFlowsRequest) error {
	stream, err := client.GetFlows(ctx, req)
	if err != nil {
		return err
	}
	_, err = stream.Recv()
	return err
}

// silentConns opens n TCP connections that send nothing and returns how
// many the server closed within wait.
func silentConns(t *testing.T, target string, n int, wait time.Duration) int64 {
	t.Helper()
	var closed atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(wait)
	for range n {
		c, err := net.Dial("tcp", target)
		if err != nil {
			t.Errorf("dial: %v", err)
			continue
		}
		wg.Go(func() {
			defer c.Close()
			c.SetReadDeadline(deadline)
			if _, err := io.Copy(io.Discard, c); err == nil {
				closed.Add(1)
			}
		})
	}
	wg.Wait()
	return closed.Load()
}

// TestHostileTLSClients: with mutual TLS on, clients without a certificate
// or with one from another CA are refused in the handshake, in a loop,
// while a client with a valid certificate is served.
func TestHostileTLSClients(t *testing.T) {
	dir := t.TempDir()
	const name = "soak-node.fovea.test"
	serverCA, clientCA, rogueCA := testca.New(t, "server CA"), testca.New(t, "client CA"), testca.New(t, "rogue CA")
	cert, key := serverCA.IssueFiles(t, dir, "server", name)
	a := startAgent(t, agentOpts{rate: 5000, tcp: true, tls: []string{
		"--tls-cert-file=" + cert, "--tls-key-file=" + key,
		"--tls-client-ca-files=" + testca.WriteFile(t, dir, "client-ca.crt", clientCA.PEM),
	}})
	goodConf := &tls.Config{RootCAs: serverCA.Pool(), ServerName: name, Certificates: []tls.Certificate{clientCA.KeyPair(t, "hubble")}}
	good := dialFrom(t, a.tcp, "127.0.0.2", grpc.WithTransportCredentials(credentials.NewTLS(goodConf)))
	d := attackWindow(t)
	measure(t, a, good, "no attack (mTLS)", d, func(context.Context) {})
	for _, c := range []struct {
		name  string
		certs []tls.Certificate
	}{
		{"no client certificate", nil},
		{"certificate of another CA", []tls.Certificate{rogueCA.KeyPair(t, "hubble")}},
	} {
		var refused atomic.Int64
		measure(t, a, good, c.name+", 4 loops", d, func(ctx context.Context) {
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for ctx.Err() == nil {
						conf := &tls.Config{RootCAs: serverCA.Pool(), ServerName: name, Certificates: c.certs, NextProtos: []string{"h2"}}
						err := tlsExchange(a.tcp, conf)
						if err == nil {
							t.Errorf("%s: served", c.name)
							return
						}
						refused.Add(1)
					}
				})
			}
			wg.Wait()
		})
		t.Logf("%s: %d handshakes refused", c.name, refused.Load())
	}
}

// tlsExchange handshakes with target and reads: TLS 1.3 servers reject a
// client certificate after the client's side of the handshake is done, so
// the refusal arrives on the first read.
func tlsExchange(target string, conf *tls.Config) error {
	c, err := tls.Dial("tcp", target, conf)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")); err != nil {
		return err
	}
	// A served client reads the server's SETTINGS frame.
	_, err = c.Read(make([]byte, 1))
	return err
}
