package relay

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func kubeNode(name string, addrs ...corev1.NodeAddress) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Addresses: addrs}}
}

func TestKubePeersFollowNodes(t *testing.T) {
	client := fake.NewClientset(
		kubeNode("node-a", corev1.NodeAddress{Type: corev1.NodeHostName, Address: "node-a"},
			corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}),
		kubeNode("node-b", corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "fd00::2"}),
		kubeNode("node-c"), // no address yet: not a peer
	)
	changes := make(chan PeerChange, 16)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- KubePeers{Client: client, Cluster: "prod", Port: 4244}.Run(ctx, func(c PeerChange) { changes <- c })
	}()
	next := func() PeerChange {
		t.Helper()
		select {
		case c := <-changes:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("no peer change")
			return PeerChange{}
		}
	}

	added := map[string]Peer{}
	for range 2 {
		c := next()
		if c.Type != PeerAdded {
			t.Fatalf("initial change %+v, want added", c)
		}
		added[c.Peer.Name] = c.Peer
	}
	if p := added["prod/node-a"]; p.Address != "10.0.0.1:4244" || p.TLSServerName != "node-a.prod.hubble-grpc.cilium.io" {
		t.Errorf("node-a = %+v", p)
	}
	if p := added["prod/node-b"]; p.Address != "[fd00::2]:4244" {
		t.Errorf("node-b = %+v, want its external IPv6 address", p)
	}

	nodes := client.CoreV1().Nodes()
	c := kubeNode("node-c", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.3"})
	if _, err := nodes.Update(ctx, c, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := next(); got.Type != PeerAdded || got.Peer.Address != "10.0.0.3:4244" {
		t.Fatalf("node-c got an address: %+v", got)
	}
	a := kubeNode("node-a", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.11"})
	if _, err := nodes.Update(ctx, a, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := next(); got.Type != PeerUpdated || got.Peer.Address != "10.0.0.11:4244" {
		t.Fatalf("node-a moved: %+v", got)
	}
	if err := nodes.Delete(ctx, "node-b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := next(); got.Type != PeerDeleted || got.Peer.Name != "prod/node-b" {
		t.Fatalf("node-b deleted: %+v", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestKubePeersRelist: a relist after the watch was down reports the Nodes
// deleted meanwhile, and nothing for the ones unchanged.
func TestKubePeersRelist(t *testing.T) {
	var changes []PeerChange
	s := &peerStore{peer: KubePeers{Port: 4244}.peer, known: map[string]Peer{}, update: func(c PeerChange) { changes = append(changes, c) }}
	addr := func(ip string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip}
	}
	a, b := kubeNode("node-a", addr("10.0.0.1")), kubeNode("node-b", addr("10.0.0.2"))
	if err := s.Replace([]any{a, b}, "1"); err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0].Type != PeerAdded || changes[1].Type != PeerAdded {
		t.Fatalf("first list: %+v, want two added", changes)
	}
	changes = nil
	if err := s.Replace([]any{a}, "2"); err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Type != PeerDeleted || changes[0].Peer.Name != "node-b" {
		t.Fatalf("relist without node-b: %+v, want node-b deleted", changes)
	}
}
