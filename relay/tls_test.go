package relay

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	relaypb "github.com/cilium/cilium/api/v1/relay"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key for name, valid for servers and
// clients.
func (ca *testCA) issue(t *testing.T, name string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		DNSNames:  []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// serveMTLS serves agent on a TLS listener requiring client certificates
// from clientCA.
func serveMTLS(t *testing.T, agent *fakeAgent, certPEM, keyPEM []byte, clientCA *testCA) string {
	t.Helper()
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(clientCA.cert)
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert},
		ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert,
	})))
	observerpb.RegisterObserverServer(srv, agent)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func TestPoolMutualTLS(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA, otherCA := newCA(t, "server CA"), newCA(t, "client CA"), newCA(t, "other CA")
	const serverName = "node1.default.hubble-grpc.cilium.io"
	srvCert, srvKey := serverCA.issue(t, serverName)
	agent := &fakeAgent{name: "node1"}
	addr := serveMTLS(t, agent, srvCert, srvKey, clientCA)

	goodCert, goodKey := clientCA.issue(t, "relay")
	badCert, badKey := otherCA.issue(t, "relay")
	caFile := writeFile(t, dir, "ca.crt", serverCA.pem)
	for _, tc := range []struct {
		name       string
		tls        ClientTLS
		peerName   string
		wantState  relaypb.NodeState
		wantServer string
	}{
		{"trusted client certificate", ClientTLS{CAFiles: []string{caFile},
			CertFile: writeFile(t, dir, "good.crt", goodCert), KeyFile: writeFile(t, dir, "good.key", goodKey)},
			"node1", relaypb.NodeState_NODE_CONNECTED, serverName},
		{"untrusted client certificate", ClientTLS{CAFiles: []string{caFile},
			CertFile: writeFile(t, dir, "bad.crt", badCert), KeyFile: writeFile(t, dir, "bad.key", badKey)},
			"node1", relaypb.NodeState_NODE_UNAVAILABLE, serverName},
		{"server name mismatch", ClientTLS{CAFiles: []string{caFile},
			CertFile: filepath.Join(dir, "good.crt"), KeyFile: filepath.Join(dir, "good.key")},
			"node2", relaypb.NodeState_NODE_UNAVAILABLE, "node2.default.hubble-grpc.cilium.io"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testDial
			cfg.TLS = tc.tls
			pool, err := NewPool(cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = pool.Run(ctx, StaticPeers{{Name: tc.peerName, Address: addr}})
			}()
			defer func() { cancel(); <-done }()
			waitState(t, pool, tc.peerName, tc.wantState, tc.wantState == relaypb.NodeState_NODE_CONNECTED)
			n := pool.Nodes()[0]
			if !n.TLS || n.TLSServerName != tc.wantServer {
				t.Fatalf("node TLS %v server name %q, want %q", n.TLS, n.TLSServerName, tc.wantServer)
			}
		})
	}
}
