package peer_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	peerpb "github.com/cilium/cilium/api/v1/peer"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/foveanet/fovea/api/peer"
	"github.com/foveanet/fovea/api/server"
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/test/grpctest"
)

func serve(t *testing.T, srv peerpb.PeerServer) peerpb.PeerClient {
	t.Helper()
	return peerpb.NewPeerClient(grpctest.Serve(t, func(gs *grpc.Server) { peerpb.RegisterPeerServer(gs, srv) }))
}

func TestNotifySelf(t *testing.T) {
	node := flowview.NewNode("worker.example.org", "kind", "v1", nil, intern.NewTables())
	cfg := server.Config{SocketPath: "/x.sock", ListenAddress: ":4244", TLSCertFile: "c", TLSKeyFile: "k"}
	client := serve(t, peer.NewSelf(node, cfg, peer.WithNodeIP(netip.MustParseAddr("10.1.2.3"))))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := client.Notify(ctx, &peerpb.NotifyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	want := &peerpb.ChangeNotification{
		Name:    "kind/worker.example.org",
		Address: "10.1.2.3:4244",
		Type:    peerpb.ChangeNotificationType_PEER_ADDED,
		Tls:     &peerpb.TLS{ServerName: "worker-example-org.kind.hubble-grpc.cilium.io"},
	}
	if !proto.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// The stream stays open after the initial set.
	recvd := make(chan error, 1)
	go func() {
		_, err := stream.Recv()
		recvd <- err
	}()
	select {
	case err := <-recvd:
		t.Fatalf("stream ended early: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if err := <-recvd; err == nil {
		t.Fatal("Recv after cancel succeeded")
	}
}

func TestNewSelfAddresses(t *testing.T) {
	node := flowview.NewNode("n1", "", "v1", nil, intern.NewTables())
	for _, tc := range []struct {
		cfg      server.Config
		wantAddr string
		wantTLS  string
	}{
		{server.Config{ListenAddress: "192.168.1.5:4244", Insecure: true}, "192.168.1.5:4244", ""},
		{server.Config{ListenAddress: "[fd00::5]:4244", TLSCertFile: "c"}, "[fd00::5]:4244", "n1.default.hubble-grpc.cilium.io"},
		{server.Config{}, "", ""},
	} {
		cn, _ := peer.NewSelfNodes(node, tc.cfg).Subscribe(context.Background())
		if len(cn) != 1 || cn[0].Address != tc.wantAddr || cn[0].GetTls().GetServerName() != tc.wantTLS || cn[0].Name != "n1" {
			t.Errorf("%+v: got %v", tc.cfg, cn)
		}
	}
}

// changingSet is a NodeSet fed by the test.
type changingSet struct {
	current []*peerpb.ChangeNotification
	changes chan *peerpb.ChangeNotification
}

func (s *changingSet) Subscribe(context.Context) ([]*peerpb.ChangeNotification, <-chan *peerpb.ChangeNotification) {
	return s.current, s.changes
}

func TestNotifyForwardsChanges(t *testing.T) {
	set := &changingSet{
		current: []*peerpb.ChangeNotification{{Name: "a", Address: "10.0.0.1:4244"}, {Name: "b", Address: "10.0.0.2:4244"}},
		changes: make(chan *peerpb.ChangeNotification, 2),
	}
	client := serve(t, peer.New(set))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := client.Notify(ctx, &peerpb.NotifyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	set.changes <- &peerpb.ChangeNotification{Name: "a", Type: peerpb.ChangeNotificationType_PEER_DELETED}
	set.changes <- &peerpb.ChangeNotification{Name: "b", Address: "10.0.0.9:4244", Type: peerpb.ChangeNotificationType_PEER_UPDATED}
	want := []string{"a PEER_ADDED", "b PEER_ADDED", "a PEER_DELETED", "b PEER_UPDATED"}
	for _, w := range want {
		cn, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if got := cn.Name + " " + cn.Type.String(); got != w {
			t.Fatalf("got %s, want %s", got, w)
		}
	}
}
