package relay

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	relaypb "github.com/cilium/cilium/api/v1/relay"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"

	"github.com/foveanet/fovea/test/testca"
)

func serveMTLS(t *testing.T, agent *fakeAgent, certPEM, keyPEM []byte, clientCA *testca.CA) string {
	t.Helper()
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := clientCA.Pool()
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
	serverCA, clientCA, otherCA := testca.New(t, "server CA"), testca.New(t, "client CA"), testca.New(t, "other CA")
	const serverName = "node1.default.hubble-grpc.cilium.io"
	srvCert, srvKey := serverCA.Issue(t, serverName)
	agent := &fakeAgent{name: "node1"}
	addr := serveMTLS(t, agent, srvCert, srvKey, clientCA)

	goodCert, goodKey := clientCA.Issue(t, "relay")
	badCert, badKey := otherCA.Issue(t, "relay")
	caFile := testca.WriteFile(t, dir, "ca.crt", serverCA.PEM)
	for _, tc := range []struct {
		name       string
		tls        ClientTLS
		peerName   string
		wantState  relaypb.NodeState
		wantServer string
	}{
		{"trusted client certificate", ClientTLS{CAFiles: []string{caFile},
			CertFile: testca.WriteFile(t, dir, "good.crt", goodCert), KeyFile: testca.WriteFile(t, dir, "good.key", goodKey)},
			"node1", relaypb.NodeState_NODE_CONNECTED, serverName},
		{"untrusted client certificate", ClientTLS{CAFiles: []string{caFile},
			CertFile: testca.WriteFile(t, dir, "bad.crt", badCert), KeyFile: testca.WriteFile(t, dir, "bad.key", badKey)},
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

// TestDialerFollowsRotatedCA rotates the CA bundle under a running dialer:
// from then on it trusts only agents with the new CA's certificates, on
// fresh connections and on the reconnections of one it already has.
func TestDialerFollowsRotatedCA(t *testing.T) {
	dir := t.TempDir()
	oldCA, newCA, clientCA := testca.New(t, "old CA"), testca.New(t, "new CA"), testca.New(t, "client CA")
	const peerName = "node1"
	serverName := defaultServerName(peerName)
	serve := func(ca *testca.CA) string {
		cert, key := ca.Issue(t, serverName)
		return serveMTLS(t, &fakeAgent{name: peerName}, cert, key, clientCA)
	}
	oldAgent, newAgent := serve(oldCA), serve(newCA)
	cfg := testDial
	cfg.TLS = ClientTLS{CAFiles: []string{testca.WriteFile(t, dir, "ca.crt", oldCA.PEM)}}
	cfg.TLS.CertFile, cfg.TLS.KeyFile = clientCA.IssueFiles(t, dir, "relay", "relay")
	d, err := newDialer(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}

	status := func(addr string) error {
		conn, err := d.dial(addr, d.serverName(Peer{Name: peerName, Address: addr}))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = observerpb.NewObserverClient(conn).ServerStatus(ctx, &observerpb.ServerStatusRequest{})
		return err
	}
	wantTrust := func(when, trusted, untrusted string) {
		t.Helper()
		if err := status(trusted); err != nil {
			t.Fatalf("%s: agent with the trusted CA's certificate: %v", when, err)
		}
		if err := status(untrusted); err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
			t.Fatalf("%s: agent with the other CA's certificate: %v, want an unknown authority", when, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waitConn := func(conn *grpc.ClientConn, want connectivity.State) {
		t.Helper()
		for s := conn.GetState(); s != want; s = conn.GetState() {
			if !conn.WaitForStateChange(ctx, s) {
				t.Fatalf("connection stayed %v, want %v", s, want)
			}
		}
	}

	wantTrust("before rotation", oldAgent, newAgent)
	// The pool keeps retrying an agent it cannot verify; so does this.
	retrying, err := d.dial(newAgent, serverName)
	if err != nil {
		t.Fatal(err)
	}
	defer retrying.Close()
	retrying.Connect()
	waitConn(retrying, connectivity.TransientFailure)

	testca.WriteFile(t, dir, "ca.crt", newCA.PEM)
	waitConn(retrying, connectivity.Ready)
	wantTrust("after rotation", newAgent, oldAgent)
}
