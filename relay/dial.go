package relay

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/foveanet/fovea/api/tlsfiles"
)

// streamWindow is what one agent stream may have in flight to the relay,
// HTTP/2's default: about 200 flows; at 1 ms round trip 64 MiB/s, far more
// than one agent's flows, and a relay 10 ms from an agent still takes
// about 20,000 flows a second of one stream. connWindow is a connection's,
// over all its streams.
const (
	streamWindow = 64 << 10
	connWindow   = 16 << 20
)

// dialer opens connections to peers.
type dialer struct {
	cfg DialConfig
	// configs is the TLS configuration, reloaded as its files rotate; nil
	// dials in plaintext.
	configs *tlsfiles.Reloader[*tls.Config]
}

func newDialer(cfg DialConfig, log *slog.Logger) (*dialer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &dialer{cfg: cfg}
	if cfg.TLS.Insecure {
		return d, nil
	}
	files := slices.Clone(cfg.TLS.CAFiles)
	if cfg.TLS.CertFile != "" {
		files = append(files, cfg.TLS.CertFile, cfg.TLS.KeyFile)
	}
	configs, err := tlsfiles.New(files, func() (*tls.Config, error) { return loadClientTLS(cfg.TLS) }, log)
	if err != nil {
		return nil, err
	}
	d.configs = configs
	return d, nil
}

func loadClientTLS(c ClientTLS) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS13}
	if len(c.CAFiles) > 0 {
		pool, err := tlsfiles.CAPool(c.CAFiles)
		if err != nil {
			return nil, fmt.Errorf("load peer CAs: %w", err)
		}
		conf.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load peer client certificate: %w", err)
		}
		// Always sent: from Certificates, Go withholds a certificate whose
		// issuer the agent's list of acceptable CAs does not name, as with
		// one below an intermediate.
		conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &cert, nil
		}
	}
	return conf, nil
}

// serverName is the name p's certificate must carry.
func (d *dialer) serverName(p Peer) string {
	switch {
	case d.cfg.TLS.ServerName != "":
		return d.cfg.TLS.ServerName
	case p.TLSServerName != "":
		return p.TLSServerName
	case p.Name != p.Address:
		return defaultServerName(p.Name)
	}
	return ""
}

// tlsEnabled reports whether connections use TLS.
func (d *dialer) tlsEnabled() bool { return d.configs != nil }

// dial returns a connection to target (an address, or a gRPC target such
// as unix:///path) verifying serverName; gRPC connects lazily and
// reconnects on its own, with exponential backoff.
func (d *dialer) dial(target, serverName string) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if d.configs != nil {
		creds = tlsfiles.ClientCredentials(d.configs, serverName)
	}
	conn, err := grpc.NewClient(target,
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: grpcbackoff.Config{
				BaseDelay:  time.Second,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   d.cfg.MaxBackoff,
			},
			MinConnectTimeout: d.cfg.DialTimeout,
		}),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                d.cfg.Keepalive,
			Timeout:             d.cfg.DialTimeout,
			PermitWithoutStream: true,
		}),
		// Connections stay up so that node states are current.
		grpc.WithIdleTimeout(0),
		// Fixed windows bound what one agent stream buffers here when its
		// client reads slowly: gRPC's window estimation grows a stream's
		// to megabytes, which clients × agents of slow streams made
		// hundreds of MiB; a stalled stream is overtaken at the agent
		// instead and its client told with LostEvents.
		grpc.WithInitialWindowSize(streamWindow),
		grpc.WithInitialConnWindowSize(connWindow),
	)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	return conn, nil
}
