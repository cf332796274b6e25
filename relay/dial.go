package relay

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"time"

	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/foveanet/fovea/api/tlsfiles"
)

// dialer opens connections to peers.
type dialer struct {
	cfg  DialConfig
	base *tls.Config
}

func newDialer(cfg DialConfig, log *slog.Logger) (*dialer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &dialer{cfg: cfg}
	if cfg.TLS.Insecure {
		return d, nil
	}
	d.base = &tls.Config{MinVersion: tls.VersionTLS13}
	if len(cfg.TLS.CAFiles) > 0 {
		pool := x509.NewCertPool()
		for _, f := range cfg.TLS.CAFiles {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("read --peer-tls-ca-files: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("read --peer-tls-ca-files %s: no PEM certificate found", f)
			}
		}
		d.base.RootCAs = pool
	}
	if cfg.TLS.CertFile != "" {
		// The client certificate is reloaded as its files rotate.
		certs, err := tlsfiles.New([]string{cfg.TLS.CertFile, cfg.TLS.KeyFile}, func() (*tls.Certificate, error) {
			cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("load --peer-tls-cert-file: %w", err)
			}
			return &cert, nil
		}, log)
		if err != nil {
			return nil, err
		}
		d.base.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return certs.Current(), nil
		}
	}
	return d, nil
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
func (d *dialer) tlsEnabled() bool { return d.base != nil }

// dial returns a connection to target (an address, or a gRPC target such
// as unix:///path) verifying serverName; gRPC connects lazily and
// reconnects on its own, with exponential backoff.
func (d *dialer) dial(target, serverName string) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if d.base != nil {
		conf := d.base.Clone()
		conf.ServerName = serverName
		creds = credentials.NewTLS(conf)
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
	)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	return conn, nil
}
