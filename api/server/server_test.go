package server

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	peerpb "github.com/cilium/cilium/api/v1/peer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/foveanet/fovea/test/testca"
)

const serverName = "node-1.kind.hubble-grpc.cilium.io"

type fakeObserver struct {
	observerpb.UnimplementedObserverServer
}

func (fakeObserver) ServerStatus(context.Context, *observerpb.ServerStatusRequest) (*observerpb.ServerStatusResponse, error) {
	return &observerpb.ServerStatusResponse{MaxFlows: 7}, nil
}

// GetDebugEvents blocks like a following stream.
func (fakeObserver) GetDebugEvents(_ *observerpb.GetDebugEventsRequest, stream grpc.ServerStreamingServer[observerpb.GetDebugEventsResponse]) error {
	<-stream.Context().Done()
	return stream.Context().Err()
}

type fakePeer struct{ peerpb.UnimplementedPeerServer }

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg   Config
		field string
	}{
		{Config{SocketPath: "/s"}, ""},
		{Config{SocketPath: "/s", ListenAddress: ":4244", Insecure: true}, ""},
		{Config{SocketPath: "/s", ListenAddress: ":4244", TLSCertFile: "c", TLSKeyFile: "k", TLSClientCAFiles: []string{"ca"}}, ""},
		{Config{}, "--socket-path"},
		{Config{SocketPath: "/s", ListenAddress: ":4244"}, "--tls-cert-file"},
		{Config{SocketPath: "/s", ListenAddress: "4244", Insecure: true}, "--listen-address"},
		{Config{SocketPath: "/s", TLSCertFile: "c"}, "--tls-key-file"},
		{Config{SocketPath: "/s", TLSClientCAFiles: []string{"ca"}}, "--tls-client-ca-files"},
		{Config{SocketPath: "/s", TLSCertFile: "c", TLSKeyFile: "k", TLSClientCAFiles: []string{""}}, "--tls-client-ca-files: entry 0"},
		{Config{SocketPath: "/s", ListenAddress: ":1", Insecure: true, TLSCertFile: "c", TLSKeyFile: "k"}, "--insecure"},
		{Config{SocketPath: "/s", HealthAddress: ":4246"}, ""},
		{Config{SocketPath: "/s", HealthAddress: "4246"}, "--health-address"},
		{Config{SocketPath: "/s", Limits: Limits{MaxRequestBytes: 4 << 10, MaxStreamsPerClient: 1, KeepaliveTime: time.Second}}, ""},
		{Config{SocketPath: "/s", Limits: Limits{MaxRequestBytes: 100}}, "--max-request-bytes"},
		{Config{SocketPath: "/s", Limits: Limits{MaxStreamsPerClient: -1}}, "--max-streams-per-client"},
		{Config{SocketPath: "/s", Limits: Limits{HandshakeTimeout: -1}}, "--handshake-timeout"},
		{Config{SocketPath: "/s", Limits: Limits{KeepaliveTime: time.Millisecond}}, "--keepalive-time"},
		{Config{SocketPath: "/s", Limits: Limits{KeepaliveTimeout: -1}}, "--keepalive-timeout"},
		{Config{SocketPath: "/s", Limits: Limits{IdleTimeout: -time.Second}}, "--idle-timeout"},
	} {
		err := tc.cfg.Validate()
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: %v", tc.cfg, err)
		case tc.field != "" && (err == nil || !strings.Contains(err.Error(), tc.field)):
			t.Errorf("%+v: got %v, want error naming %s", tc.cfg, err, tc.field)
		}
	}
}

// start runs a server for cfg until the test ends.
func start(t *testing.T, cfg Config) {
	t.Helper()
	srv, err := New(cfg, slog.New(slog.DiscardHandler), fakeObserver{}, fakePeer{}, WithVersion("v9.9.9"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if c, err := net.Dial("unix", cfg.SocketPath); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server did not start listening")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func dial(t *testing.T, target string, creds credentials.TransportCredentials) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestUnixSocketServices(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "run", "hubble.sock")
	if err := os.MkdirAll(filepath.Dir(sock), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sock, nil, 0o600); err != nil { // stale leftover
		t.Fatal(err)
	}
	start(t, Config{SocketPath: sock})
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != socketMode {
		t.Fatalf("socket mode %v", fi.Mode())
	}
	conn := dial(t, "unix://"+sock, insecure.NewCredentials())
	ctx := context.Background()

	health := healthpb.NewHealthClient(conn)
	for _, svc := range []string{"", HealthService} {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health %q: %v, %v", svc, resp, err)
		}
	}

	var header metadata.MD
	st, err := observerpb.NewObserverClient(conn).ServerStatus(ctx, &observerpb.ServerStatusRequest{}, grpc.Header(&header))
	if err != nil || st.MaxFlows != 7 {
		t.Fatalf("ServerStatus: %v, %v", st, err)
	}
	if v := header.Get(versionHeader); len(v) != 1 || v[0] != "v9.9.9" {
		t.Fatalf("version header = %v", v)
	}

	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.Name)
	}
	for _, want := range []string{"observer.Observer", "peer.Peer", "grpc.health.v1.Health"} {
		if !strings.Contains(strings.Join(names, ","), want) {
			t.Fatalf("reflection lists %v, missing %s", names, want)
		}
	}
}

func TestInsecureTCP(t *testing.T) {
	addr := freeAddr(t)
	start(t, Config{SocketPath: filepath.Join(t.TempDir(), "h.sock"), ListenAddress: addr, Insecure: true})
	conn := dial(t, addr, insecure.NewCredentials())
	if _, err := observerpb.NewObserverClient(conn).ServerStatus(context.Background(), &observerpb.ServerStatusRequest{}); err != nil {
		t.Fatal(err)
	}
}

type tlsSetup struct {
	cfg          Config
	ca, clientCA *testca.CA
	dir          string
}

func newTLSSetup(t *testing.T, mutual bool) *tlsSetup {
	dir := t.TempDir()
	s := &tlsSetup{ca: testca.New(t, "server CA"), clientCA: testca.New(t, "client CA"), dir: dir}
	cert, key := s.ca.Issue(t, serverName)
	s.cfg = Config{
		SocketPath:    filepath.Join(dir, "h.sock"),
		ListenAddress: freeAddr(t),
		TLSCertFile:   testca.WriteFile(t, dir, "tls.crt", cert),
		TLSKeyFile:    testca.WriteFile(t, dir, "tls.key", key),
	}
	if mutual {
		s.cfg.TLSClientCAFiles = []string{testca.WriteFile(t, dir, "client-ca.crt", s.clientCA.PEM)}
	}
	return s
}

func (s *tlsSetup) status(t *testing.T, conf *tls.Config) (*tls.ConnectionState, error) {
	t.Helper()
	conf.RootCAs, conf.ServerName = s.ca.Pool(), serverName
	conn := dial(t, s.cfg.ListenAddress, credentials.NewTLS(conf))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := observerpb.NewObserverClient(conn).ServerStatus(ctx, &observerpb.ServerStatusRequest{}, grpc.WaitForReady(false))
	if err != nil {
		return nil, err
	}
	// A fresh handshake shows which certificate the server presents now.
	raw, err := tls.Dial("tcp", s.cfg.ListenAddress, &tls.Config{
		RootCAs: s.ca.Pool(), ServerName: serverName, Certificates: conf.Certificates, NextProtos: []string{"h2"},
	})
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	st := raw.ConnectionState()
	return &st, nil
}

func TestTLS(t *testing.T) {
	s := newTLSSetup(t, false)
	start(t, s.cfg)
	st, err := s.status(t, &tls.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != tls.VersionTLS13 {
		t.Fatalf("negotiated TLS version %x", st.Version)
	}
	if _, err := s.status(t, &tls.Config{MaxVersion: tls.VersionTLS12}); err == nil {
		t.Fatal("a TLS 1.2 client was served")
	}
	// Plaintext is refused on a TLS listener.
	conn := dial(t, s.cfg.ListenAddress, insecure.NewCredentials())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := observerpb.NewObserverClient(conn).ServerStatus(ctx, &observerpb.ServerStatusRequest{}); err == nil {
		t.Fatal("a plaintext client was served")
	}
}

func TestMutualTLS(t *testing.T) {
	s := newTLSSetup(t, true)
	start(t, s.cfg)
	good := s.clientCA.KeyPair(t, "hubble-client")
	if _, err := s.status(t, &tls.Config{Certificates: []tls.Certificate{good}}); err != nil {
		t.Fatalf("client with a valid certificate: %v", err)
	}
	wrong := testca.New(t, "rogue CA").KeyPair(t, "hubble-client")
	if _, err := s.status(t, &tls.Config{Certificates: []tls.Certificate{wrong}}); err == nil {
		t.Fatal("client with a certificate from another CA was served")
	}
	if _, err := s.status(t, &tls.Config{}); err == nil {
		t.Fatal("client without a certificate was served")
	}
}

func TestCertificateReload(t *testing.T) {
	s := newTLSSetup(t, false)
	start(t, s.cfg)
	st, err := s.status(t, &tls.Config{})
	if err != nil {
		t.Fatal(err)
	}
	before := st.PeerCertificates[0].SerialNumber
	cert, key := s.ca.Issue(t, serverName)
	testca.WriteFile(t, s.dir, "tls.crt", cert)
	testca.WriteFile(t, s.dir, "tls.key", key)
	deadline := time.Now().Add(5 * time.Second)
	for {
		time.Sleep(200 * time.Millisecond)
		st, err := s.status(t, &tls.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if st.PeerCertificates[0].SerialNumber.Cmp(before) != 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the server kept presenting the old certificate")
		}
	}
}

func TestRunStopsWithOpenStreams(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "h.sock")
	srv, err := New(Config{SocketPath: sock}, slog.New(slog.DiscardHandler), fakeObserver{}, fakePeer{})
	if err != nil {
		t.Fatal(err)
	}
	srv.grace = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var stream grpc.ServerStreamingClient[observerpb.GetDebugEventsResponse]
	for deadline := time.Now().Add(5 * time.Second); ; {
		conn := dial(t, "unix://"+sock, insecure.NewCredentials())
		stream, err = observerpb.NewObserverClient(conn).GetDebugEvents(context.Background(), &observerpb.GetDebugEventsRequest{Follow: true})
		if err == nil {
			if _, err = stream.Header(); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return with a stream open")
	}
	if _, err := stream.Recv(); err == nil {
		t.Fatal("stream still open after Run returned")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket left behind: %v", err)
	}
}

func TestNewRejectsMissingTLSFiles(t *testing.T) {
	dir := t.TempDir()
	_, err := New(Config{
		SocketPath: filepath.Join(dir, "h.sock"), ListenAddress: "127.0.0.1:0",
		TLSCertFile: filepath.Join(dir, "missing.crt"), TLSKeyFile: filepath.Join(dir, "missing.key"),
	}, slog.New(slog.DiscardHandler), fakeObserver{}, fakePeer{})
	if err == nil || !strings.Contains(err.Error(), "missing.crt") {
		t.Fatalf("got %v", err)
	}
}
