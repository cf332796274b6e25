package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// dialFrom connects to a TCP target from the loopback address src, which
// makes it another client than one dialling from 127.0.0.1.
func dialFrom(t *testing.T, target, src string) *grpc.ClientConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// follow opens a following stream and reports whether the server holds it
// (nil) or refused it (the error): a held stream has passed every
// interceptor, so its headers carry the version.
func follow(ctx context.Context, conn *grpc.ClientConn) error {
	stream, err := observerpb.NewObserverClient(conn).GetDebugEvents(ctx, &observerpb.GetDebugEventsRequest{Follow: true})
	if err != nil {
		return err
	}
	md, err := stream.Header()
	if err != nil {
		return err
	}
	if len(md.Get(versionHeader)) > 0 {
		return nil
	}
	_, err = stream.Recv()
	return err
}

// requestOfSize is a GetFlows request whose encoding is exactly n bytes.
func requestOfSize(t *testing.T, n int) *observerpb.GetFlowsRequest {
	t.Helper()
	pad := n
	for range 8 {
		req := &observerpb.GetFlowsRequest{Whitelist: []*flowpb.FlowFilter{{SourcePod: []string{strings.Repeat("p", pad)}}}}
		size := proto.Size(req)
		if size == n {
			return req
		}
		pad += n - size
	}
	t.Fatalf("no request of %d bytes", n)
	return nil
}

func TestRequestSizeLimit(t *testing.T) {
	const limit = 64 << 10
	sock := filepath.Join(t.TempDir(), "h.sock")
	start(t, Config{SocketPath: sock, Limits: Limits{MaxRequestBytes: limit}})
	client := observerpb.NewObserverClient(dial(t, "unix://"+sock, insecure.NewCredentials()))
	get := func(n int) error {
		stream, err := client.GetFlows(context.Background(), requestOfSize(t, n))
		if err != nil {
			return err
		}
		_, err = stream.Recv()
		return err
	}
	// At the limit the request is read and reaches the service, which
	// fakeObserver does not implement.
	if err := get(limit); status.Code(err) != codes.Unimplemented {
		t.Fatalf("request at the limit: %v", err)
	}
	if err := get(limit + 1); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("request over the limit: %v", err)
	}
	// The connection stays usable.
	if _, err := client.ServerStatus(context.Background(), &observerpb.ServerStatusRequest{}); err != nil {
		t.Fatal(err)
	}
}

func TestStreamsPerClientLimit(t *testing.T) {
	const limit = 5
	addr := freeAddr(t)
	start(t, Config{SocketPath: filepath.Join(t.TempDir(), "h.sock"), ListenAddress: addr, Insecure: true,
		Limits: Limits{MaxStreamsPerClient: limit}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// One client over two connections: the limit is the client's.
	first, second := dialFrom(t, addr, "127.0.0.1"), dialFrom(t, addr, "127.0.0.1")
	var held []context.CancelFunc
	for i := range limit {
		sctx, stop := context.WithCancel(ctx)
		held = append(held, stop)
		conn := first
		if i%2 == 1 {
			conn = second
		}
		if err := follow(sctx, conn); err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
	}
	err := follow(ctx, second)
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("stream over the limit: %v", err)
	}
	// Another client is served.
	other, stopOther := context.WithCancel(ctx)
	defer stopOther()
	if err := follow(other, dialFrom(t, addr, "127.0.0.2")); err != nil {
		t.Fatalf("another client: %v", err)
	}
	// A closed stream frees its place.
	held[0]()
	deadline := time.Now().Add(5 * time.Second)
	for {
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		err := follow(sctx, first)
		if err == nil {
			break
		}
		if status.Code(err) != codes.ResourceExhausted || time.Now().After(deadline) {
			t.Fatalf("stream after one closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, stop := range held {
		stop()
	}
}

// TestHandshakeTimeout: a peer that connects and sends nothing is
// disconnected.
func TestHandshakeTimeout(t *testing.T) {
	addr := freeAddr(t)
	start(t, Config{SocketPath: filepath.Join(t.TempDir(), "h.sock"), ListenAddress: addr, Insecure: true,
		Limits: Limits{HandshakeTimeout: 200 * time.Millisecond}})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Fatalf("the silent connection was not closed: %v", err)
	}
}

// TestKeepaliveClosesUnansweringClient: a client that completes the HTTP/2
// handshake, then answers no ping, is disconnected after a ping.
func TestKeepaliveClosesUnansweringClient(t *testing.T) {
	addr := freeAddr(t)
	start(t, Config{SocketPath: filepath.Join(t.TempDir(), "h.sock"), ListenAddress: addr, Insecure: true,
		Limits: Limits{KeepaliveTime: time.Second, KeepaliveTimeout: 200 * time.Millisecond}})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	pinged := false
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			if !pinged {
				t.Fatalf("connection ended before any ping: %v", err)
			}
			if !errors.Is(err, io.EOF) {
				t.Fatalf("connection not closed after an unanswered ping: %v", err)
			}
			return
		}
		if p, ok := f.(*http2.PingFrame); ok && !p.IsAck() {
			pinged = true
		}
	}
}

func TestIdleTimeout(t *testing.T) {
	addr := freeAddr(t)
	start(t, Config{SocketPath: filepath.Join(t.TempDir(), "h.sock"), ListenAddress: addr, Insecure: true,
		Limits: Limits{IdleTimeout: 300 * time.Millisecond}})
	conn := dial(t, addr, insecure.NewCredentials())
	if _, err := observerpb.NewObserverClient(conn).ServerStatus(context.Background(), &observerpb.ServerStatusRequest{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The server's GOAWAY sends the client back to IDLE.
	for s := conn.GetState(); s != connectivity.Idle; s = conn.GetState() {
		if !conn.WaitForStateChange(ctx, s) {
			t.Fatalf("connection still %v after the idle timeout", s)
		}
	}
}

// TestStreamRefusalsAreLoggedSparingly: the first refusal is logged with
// the client, later ones only counted until the interval has passed.
func TestStreamRefusalsAreLoggedSparingly(t *testing.T) {
	var out strings.Builder
	l := newStreamLimiter(1, slog.New(slog.NewTextHandler(&out, nil)))
	if !l.acquire("10.0.0.1") {
		t.Fatal("first stream refused")
	}
	for range 3 {
		if l.acquire("10.0.0.1") {
			t.Fatal("stream over the limit accepted")
		}
	}
	if !l.acquire("10.0.0.2") {
		t.Fatal("another client refused")
	}
	if n := strings.Count(out.String(), "refusing streams"); n != 1 || !strings.Contains(out.String(), "client=10.0.0.1") {
		t.Fatalf("log:\n%s\nwant one line naming 10.0.0.1", out.String())
	}
	l.loggedAt = l.loggedAt.Add(-refusalLogInterval)
	l.acquire("10.0.0.1")
	if !strings.Contains(out.String(), "refused=3") {
		t.Fatalf("log:\n%s\nwant the 3 refusals since the first line", out.String())
	}
	l.release("10.0.0.1")
	if !l.acquire("10.0.0.1") {
		t.Fatal("a released place was not given again")
	}
}
