package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"

	"github.com/foveanet/fovea/api/tlsfiles"
)

// newCerts loads the server's certificate and client CAs, reloaded as the
// files rotate.
func newCerts(cfg Config, log *slog.Logger) (*tlsfiles.Reloader[*tls.Config], error) {
	files := append([]string{cfg.TLSCertFile, cfg.TLSKeyFile}, cfg.TLSClientCAFiles...)
	return tlsfiles.New(files, func() (*tls.Config, error) { return loadTLS(cfg) }, log)
}

// serverTLS is the listener's TLS configuration; per-connection settings
// come from the latest files.
func serverTLS(certs *tlsfiles.Reloader[*tls.Config]) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return certs.Current(), nil
		},
	}
}

func loadTLS(cfg Config) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	conf := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2"},
	}
	if len(cfg.TLSClientCAFiles) == 0 {
		return conf, nil
	}
	pool, err := tlsfiles.CAPool(cfg.TLSClientCAFiles)
	if err != nil {
		return nil, fmt.Errorf("load client CAs: %w", err)
	}
	conf.ClientCAs = pool
	conf.ClientAuth = tls.RequireAndVerifyClientCert
	return conf, nil
}
