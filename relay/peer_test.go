package relay

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	peerpb "github.com/cilium/cilium/api/v1/peer"
	"google.golang.org/grpc"

	"github.com/foveanet/fovea/api/peer"
)

func TestParsePeers(t *testing.T) {
	got, err := ParsePeers([]string{"10.0.0.1:4244", "node2=10.0.0.2:4244", "c1/node3=[fd00::3]:4244"})
	if err != nil {
		t.Fatal(err)
	}
	want := StaticPeers{
		{Name: "10.0.0.1:4244", Address: "10.0.0.1:4244"},
		{Name: "node2", Address: "10.0.0.2:4244"},
		{Name: "c1/node3", Address: "[fd00::3]:4244"},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("peer %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range [][]string{{"10.0.0.1"}, {"=10.0.0.1:1"}, {"a=1.1.1.1:1", "a=2.2.2.2:1"}} {
		if _, err := ParsePeers(bad); err == nil {
			t.Errorf("ParsePeers(%q) accepted", bad)
		}
	}
}

func TestDefaultServerName(t *testing.T) {
	for name, want := range map[string]string{
		"node1":          "node1.default.hubble-grpc.cilium.io",
		"prod/node.a.b":  "node-a-b.prod.hubble-grpc.cilium.io",
		"default/node-2": "node-2.default.hubble-grpc.cilium.io",
	} {
		if got := defaultServerName(name); got != want {
			t.Errorf("defaultServerName(%q) = %q, want %q", name, got, want)
		}
	}
}

// changingNodes is a peer.NodeSet tests feed changes to.
type changingNodes struct {
	current []*peerpb.ChangeNotification
	changes chan *peerpb.ChangeNotification
}

func (c *changingNodes) Subscribe(context.Context) ([]*peerpb.ChangeNotification, <-chan *peerpb.ChangeNotification) {
	return c.current, c.changes
}

func TestNotifyPeersFeedsThePool(t *testing.T) {
	a := newFakeAgent(t, "a")
	b := newFakeAgent(t, "b")
	nodes := &changingNodes{
		current: []*peerpb.ChangeNotification{{Name: "default/a", Address: a.addr}},
		changes: make(chan *peerpb.ChangeNotification),
	}
	srv := grpc.NewServer()
	peerpb.RegisterPeerServer(srv, peer.New(nodes))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	defer srv.Stop()

	log := slog.New(slog.DiscardHandler)
	pool, err := NewPool(testDial, log)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pool.DialPeerService(lis.Addr().String(), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pool.Run(ctx, NewNotifyPeers(conn, log, time.Second)) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	waitNodes(t, pool, "default/a")
	nodes.changes <- &peerpb.ChangeNotification{Name: "default/b", Address: b.addr, Type: peerpb.ChangeNotificationType_PEER_ADDED}
	waitNodes(t, pool, "default/a", "default/b")
	nodes.changes <- &peerpb.ChangeNotification{Name: "default/a", Type: peerpb.ChangeNotificationType_PEER_DELETED}
	waitNodes(t, pool, "default/b")
	nodes.changes <- &peerpb.ChangeNotification{Name: "default/b", Address: "127.0.0.1", Type: peerpb.ChangeNotificationType_PEER_UPDATED}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ns := pool.Nodes()
		if len(ns) == 1 && ns[0].Address == "127.0.0.1:4244" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("update not applied: %+v", ns)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitNodes(t *testing.T, p *Pool, names ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ns := p.Nodes()
		got := make([]string, len(ns))
		for i, n := range ns {
			got[i] = n.Name
		}
		if slices.Equal(got, names) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pool nodes = %v, want %v", got, names)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
