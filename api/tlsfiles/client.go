package tlsfiles

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"

	"google.golang.org/grpc/credentials"
)

// ClientCredentials are gRPC transport credentials verifying serverName
// whose every handshake, gRPC's reconnections included, uses the latest
// configuration from configs. A client's tls.Config has no per-handshake
// hook for RootCAs (GetConfigForClient is server-only), and a custom
// VerifyConnection would need InsecureSkipVerify and a re-implementation
// of the standard verification; building the standard credentials per
// handshake keeps Go's and gRPC's checks as they are.
func ClientCredentials(configs *Reloader[*tls.Config], serverName string) credentials.TransportCredentials {
	conf := configs.Current().Clone()
	conf.ServerName = serverName
	return &clientCredentials{TransportCredentials: credentials.NewTLS(conf), configs: configs}
}

type clientCredentials struct {
	// TransportCredentials answer Info, whose ServerName gRPC makes the
	// authority each handshake verifies.
	credentials.TransportCredentials
	configs *Reloader[*tls.Config]
}

func (c *clientCredentials) ClientHandshake(ctx context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return credentials.NewTLS(c.configs.Current()).ClientHandshake(ctx, authority, conn)
}

func (c *clientCredentials) Clone() credentials.TransportCredentials {
	return &clientCredentials{TransportCredentials: c.TransportCredentials.Clone(), configs: c.configs}
}

// LoadClientConfig builds a client's TLS 1.3 configuration: servers are
// verified against caFiles (none: the system roots), and certFile and
// keyFile, if set, are always presented for mutual TLS: from Certificates,
// Go withholds a certificate whose issuer the server's list of acceptable
// CAs does not name, as with one below an intermediate.
func LoadClientConfig(caFiles []string, certFile, keyFile string) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS13}
	if len(caFiles) > 0 {
		pool, err := CAPool(caFiles)
		if err != nil {
			return nil, fmt.Errorf("load CAs: %w", err)
		}
		conf.RootCAs = pool
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	}
	return conf, nil
}
