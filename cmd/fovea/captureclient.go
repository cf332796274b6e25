package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/foveanet/fovea/api/capture/capturepb"
)

// defaultServer is the relay's address, as the hubble CLI's default.
const defaultServer = "localhost:4245"

// clientFlags say where a capture command connects and how, as the hubble
// CLI's flags do.
type clientFlags struct {
	server                  string
	tls                     bool
	tlsServerName           string
	tlsCAFiles              []string
	tlsCertFile, tlsKeyFile string
}

func (c *clientFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&c.server, "server", defaultServer, "address of the relay or an agent: host:port, or unix:///path of its socket")
	fs.BoolVar(&c.tls, "tls", false, "connect with TLS (implied by the other --tls-* flags)")
	fs.StringVar(&c.tlsServerName, "tls-server-name", "", "name the server's certificate must carry (default: the host of --server)")
	fs.StringSliceVar(&c.tlsCAFiles, "tls-ca-cert-files", nil, "CA bundles the server's certificate must chain to (default: the system's)")
	fs.StringVar(&c.tlsCertFile, "tls-client-cert-file", "", "client certificate (PEM), for servers that require one")
	fs.StringVar(&c.tlsKeyFile, "tls-client-key-file", "", "client private key (PEM)")
}

// dial connects to the server; unix sockets are always plaintext.
func (c *clientFlags) dial() (capturepb.CaptureClient, *grpc.ClientConn, error) {
	if c.server == "" {
		return nil, nil, fmt.Errorf("--server: must be set")
	}
	creds := insecure.NewCredentials()
	useTLS := c.tls || c.tlsServerName != "" || len(c.tlsCAFiles) > 0 || c.tlsCertFile != ""
	if useTLS && !strings.HasPrefix(c.server, "unix://") {
		conf, err := c.tlsConfig()
		if err != nil {
			return nil, nil, err
		}
		creds = credentials.NewTLS(conf)
	}
	target := c.server
	if !strings.Contains(target, "://") {
		target = "dns:///" + target
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, nil, fmt.Errorf("--server: %w", err)
	}
	return capturepb.NewCaptureClient(conn), conn, nil
}

func (c *clientFlags) tlsConfig() (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS13, ServerName: c.tlsServerName}
	if len(c.tlsCAFiles) > 0 {
		pool := x509.NewCertPool()
		for _, f := range c.tlsCAFiles {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("--tls-ca-cert-files: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--tls-ca-cert-files: %s holds no PEM certificate", f)
			}
		}
		conf.RootCAs = pool
	}
	if (c.tlsCertFile == "") != (c.tlsKeyFile == "") {
		return nil, fmt.Errorf("--tls-client-cert-file, --tls-client-key-file: must be set together")
	}
	if c.tlsCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.tlsCertFile, c.tlsKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-client-cert-file: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}
