package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	peerpb "github.com/cilium/cilium/api/v1/peer"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	"github.com/foveanet/fovea/api/tlsfiles"
)

// HealthService is the service name hubble status checks.
const HealthService = "hubble.server.Observer"

// socketMode lets the socket's group (Hubble's convention) use it.
const socketMode = 0o660

// keepaliveMinTime is the shortest keepalive ping interval clients may use.
const keepaliveMinTime = 5 * time.Second

// shutdownGrace is how long a stopping server lets calls finish before
// closing them: following streams never finish on their own.
const shutdownGrace = 5 * time.Second

// Option configures a Server.
type Option func(*Server)

// WithVersion sets the hubble-server-version response header.
func WithVersion(v string) Option { return func(s *Server) { s.version = v } }

// WithVersionHeader sets the response header naming the version, such as
// hubble-relay-version for a relay, and its value.
func WithVersionHeader(name, v string) Option {
	return func(s *Server) { s.versionKey, s.version = name, v }
}

// WithGRPCOptions adds options to every gRPC server, such as a relay's codec.
func WithGRPCOptions(opts ...grpc.ServerOption) Option {
	return func(s *Server) { s.grpcOpts = append(s.grpcOpts, opts...) }
}

// WithService registers another service, such as the Capture service, on
// every gRPC server, behind the same listeners and TLS as the Hubble API.
func WithService(register func(grpc.ServiceRegistrar)) Option {
	return func(s *Server) { s.services = append(s.services, register) }
}

// Server is the agent's Hubble gRPC server.
type Server struct {
	cfg     Config
	log     *slog.Logger
	version string
	// versionKey is the response header carrying version.
	versionKey string
	observer   observerpb.ObserverServer
	peer       peerpb.PeerServer
	certs      *tlsfiles.Reloader[*tls.Config]
	grpcOpts   []grpc.ServerOption
	services   []func(grpc.ServiceRegistrar)
	grace      time.Duration
	// streams limits every listener's streams by client, so a client
	// cannot get round the limit by switching listeners.
	streams *streamLimiter
}

// New validates cfg, loads the TLS files it names and returns a Server for
// the given services.
func New(cfg Config, log *slog.Logger, obs observerpb.ObserverServer, peer peerpb.PeerServer, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validate server config: %w", err)
	}
	if obs == nil || peer == nil {
		return nil, errors.New("create server: observer and peer services are required")
	}
	cfg.Limits = cfg.Limits.withDefaults()
	s := &Server{
		cfg: cfg, log: log, observer: obs, peer: peer, grace: shutdownGrace, versionKey: versionHeader,
		streams: newStreamLimiter(cfg.Limits.MaxStreamsPerClient, log),
	}
	for _, opt := range opts {
		opt(s)
	}
	if cfg.ListenAddress != "" && cfg.tls() {
		certs, err := newCerts(cfg, log)
		if err != nil {
			return nil, err
		}
		s.certs = certs
	}
	return s, nil
}

// Run serves until ctx ends, then stops gracefully.
func (s *Server) Run(ctx context.Context) error {
	unixLis, err := listenUnix(s.cfg.SocketPath)
	if err != nil {
		return err
	}
	// Every listener answers health checks from one health server, which
	// stops serving as soon as ctx ends.
	hs := newHealth()
	// The unix socket is always plaintext, so each listener gets a server
	// with its own credentials.
	servers := []*grpc.Server{s.newGRPC(hs)}
	listeners := []net.Listener{unixLis}
	closeAll := func() {
		for _, l := range listeners {
			l.Close()
		}
	}
	if s.cfg.ListenAddress != "" {
		tcpLis, err := net.Listen("tcp", s.cfg.ListenAddress)
		if err != nil {
			closeAll()
			return fmt.Errorf("listen on %s: %w", s.cfg.ListenAddress, err)
		}
		var opts []grpc.ServerOption
		if s.certs != nil {
			opts = append(opts, grpc.Creds(credentials.NewTLS(serverTLS(s.certs))))
		}
		servers = append(servers, s.newGRPC(hs, opts...))
		listeners = append(listeners, tcpLis)
	}
	if s.cfg.HealthAddress != "" {
		healthLis, err := net.Listen("tcp", s.cfg.HealthAddress)
		if err != nil {
			closeAll()
			return fmt.Errorf("listen on %s: %w", s.cfg.HealthAddress, err)
		}
		servers = append(servers, healthOnly(hs))
		listeners = append(listeners, healthLis)
	}

	g, gctx := errgroup.WithContext(ctx)
	for i, srv := range servers {
		lis := listeners[i]
		s.log.Info("serving Hubble API", "address", lis.Addr().String())
		g.Go(func() error {
			// ErrServerStopped only means ctx ended before Serve began.
			if err := srv.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				return fmt.Errorf("serve Hubble API on %s: %w", lis.Addr(), err)
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		hs.Shutdown()
		s.stop(servers)
		return nil
	})
	return g.Wait() // closing the unix listener removed its socket
}

// stop stops servers gracefully, closing the calls still running after the
// grace period.
func (s *Server) stop(servers []*grpc.Server) {
	stopped := make(chan struct{})
	go func() {
		for _, srv := range servers {
			srv.GracefulStop()
		}
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(s.grace):
		s.log.Warn("closing Hubble API calls still running after the shutdown grace period", "grace", s.grace)
		for _, srv := range servers {
			srv.Stop()
		}
		<-stopped
	}
}

// newGRPC returns a gRPC server with every service registered, hs
// answering health checks.
func (s *Server) newGRPC(hs *health.Server, opts ...grpc.ServerOption) *grpc.Server {
	opts = append(opts, s.grpcOpts...)
	lim := s.cfg.Limits
	opts = append(opts,
		grpc.ChainUnaryInterceptor(s.unaryVersionHeader),
		grpc.ChainStreamInterceptor(s.streams.intercept, s.streamVersionHeader),
		grpc.MaxRecvMsgSize(lim.MaxRequestBytes),
		grpc.ConnectionTimeout(lim.HandshakeTimeout),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time: lim.KeepaliveTime, Timeout: lim.KeepaliveTimeout, MaxConnectionIdle: lim.IdleTimeout,
		}),
		// Relays ping their peers to notice dead connections; the
		// default policy would answer pings this frequent with GOAWAY.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveMinTime, PermitWithoutStream: true}),
	)
	srv := grpc.NewServer(opts...)
	observerpb.RegisterObserverServer(srv, s.observer)
	peerpb.RegisterPeerServer(srv, s.peer)
	for _, register := range s.services {
		register(srv)
	}
	healthpb.RegisterHealthServer(srv, hs)
	reflection.Register(srv)
	return srv
}

// listenUnix listens on path, replacing a stale socket left by a previous
// run and creating its directory.
func listenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create socket directory: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket: %w", err)
	}
	lis, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, socketMode); err != nil {
		lis.Close()
		return nil, fmt.Errorf("set socket permissions: %w", err)
	}
	return lis, nil
}
