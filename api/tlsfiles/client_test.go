package tlsfiles

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc/credentials"

	"github.com/foveanet/fovea/test/testca"
)

// handshake runs creds' client handshake against a TLS server presenting
// cert. It goes over loopback TCP, not net.Pipe, whose unbuffered writes
// deadlock a client's alert against the rest of the server's flight.
func handshake(t *testing.T, creds credentials.TransportCredentials, cert tls.Certificate) error {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := lis.Accept()
		if err != nil {
			return
		}
		srv := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}})
		defer srv.Close()
		_ = srv.Handshake()
	}()
	defer func() { <-done }()
	raw, err := net.Dial("tcp", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := creds.ClientHandshake(ctx, "agent", raw)
	if err == nil {
		conn.Close()
	}
	return err
}

func TestClientCredentialsFollowRotatedCA(t *testing.T) {
	dir := t.TempDir()
	oldCA, newCA := testca.New(t, "old CA"), testca.New(t, "new CA")
	caFile := testca.WriteFile(t, dir, "ca.crt", oldCA.PEM)
	r, err := New([]string{caFile}, func() (*tls.Config, error) {
		pool, err := CAPool([]string{caFile})
		return &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool}, err
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	r.now = func() time.Time { return clock }
	creds := ClientCredentials(r, "agent")
	if got := creds.Info().ServerName; got != "agent" {
		t.Fatalf("Info().ServerName = %q, want the name to verify", got)
	}
	oldCert, newCert := oldCA.KeyPair(t, "agent"), newCA.KeyPair(t, "agent")
	check := func(when string, trusted, untrusted tls.Certificate) {
		t.Helper()
		// A clone, as gRPC may make, follows the files too.
		for _, c := range []credentials.TransportCredentials{creds, creds.Clone()} {
			if err := handshake(t, c, trusted); err != nil {
				t.Fatalf("%s: handshake with the trusted CA's certificate: %v", when, err)
			}
			var unknown x509.UnknownAuthorityError
			if err := handshake(t, c, untrusted); !errors.As(err, &unknown) {
				t.Fatalf("%s: handshake with the other CA's certificate: %v, want an unknown authority", when, err)
			}
		}
	}
	check("before rotation", oldCert, newCert)

	testca.WriteFile(t, dir, "ca.crt", newCA.PEM)
	clock = clock.Add(CheckEvery)
	check("after rotation", newCert, oldCert)
}
