package relay

import (
	"context"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/foveanet/fovea/api/kubeclient"
	"github.com/foveanet/fovea/api/peer"
)

// KubePeers lists a Kubernetes cluster's nodes as peers: each node's agent
// at its internal address (else its external one) and Port, named as the
// agent names itself (cluster/node), added, updated and removed as nodes
// change. It needs no agent to be up to learn of the others.
type KubePeers struct {
	Client  kubernetes.Interface
	Cluster string
	Port    int
	// Health, if set, hears of failed lists and watches of Nodes.
	Health *kubeclient.APIHealth
}

// Run reports the nodes until ctx ends. One reflector lists and watches
// them, with kubeclient.RetryBackoff (the informer factory cannot set a backoff), and
// stores on one goroutine, so update is called from one, as PeerLister
// requires.
func (k KubePeers) Run(ctx context.Context, update func(PeerChange)) error {
	store := &peerStore{peer: k.peer, known: map[string]Peer{}, update: update}
	var r *cache.Reflector
	failed := func(ctx context.Context, err error) {
		if k.Health != nil && ctx.Err() == nil { // not our own shutdown
			k.Health.WatchErrorHandler("nodes")(r, err)
		}
	}
	nodes := k.Client.CoreV1().Nodes()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			l, err := nodes.List(ctx, opts)
			if err != nil {
				failed(ctx, err)
				return nil, err
			}
			return l, nil
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			w, err := nodes.Watch(ctx, opts)
			if err != nil {
				failed(ctx, err)
			}
			return w, err
		},
	}
	// With the client's semantics, so that a fake clientset (which cannot
	// stream a watch-list) is listed instead.
	r = cache.NewReflectorWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, k.Client), &corev1.Node{}, store,
		cache.ReflectorOptions{Name: "fovea-relay/nodes", Backoff: kubeclient.RetryBackoff()})
	r.RunWithContext(ctx)
	return nil
}

// peerStore is where the reflector stores Nodes: it keeps only the peers
// reported, and reports what changes.
type peerStore struct {
	peer   func(*corev1.Node) (Peer, bool)
	known  map[string]Peer // node name → what was reported
	update func(PeerChange)
}

func (s *peerStore) Add(obj any) error    { s.report(obj); return nil }
func (s *peerStore) Update(obj any) error { s.report(obj); return nil }

func (s *peerStore) Delete(obj any) error {
	if n, ok := obj.(*corev1.Node); ok {
		s.forget(n.Name)
	}
	return nil
}

// Replace takes a full list, after the first list and each relist: Nodes
// deleted while the watch was down are missing from it.
func (s *peerStore) Replace(list []any, _ string) error {
	listed := map[string]bool{}
	for _, obj := range list {
		if n, ok := obj.(*corev1.Node); ok {
			listed[n.Name] = true
			s.report(n)
		}
	}
	for name := range s.known {
		if !listed[name] {
			s.forget(name)
		}
	}
	return nil
}

// Resync is never called: the reflector has no resync period.
func (s *peerStore) Resync() error { return nil }

func (s *peerStore) report(obj any) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	p, ok := s.peer(n)
	old, had := s.known[n.Name]
	switch {
	case !ok && had:
		s.forget(n.Name)
	case !ok:
	case !had:
		s.known[n.Name] = p
		s.update(PeerChange{Type: PeerAdded, Peer: p})
	case old != p:
		s.known[n.Name] = p
		s.update(PeerChange{Type: PeerUpdated, Peer: p})
	}
}

func (s *peerStore) forget(name string) {
	if old, had := s.known[name]; had {
		delete(s.known, name)
		s.update(PeerChange{Type: PeerDeleted, Peer: old})
	}
}

// peer is the agent on n, if n has an address to reach it at.
func (k KubePeers) peer(n *corev1.Node) (Peer, bool) {
	var addr string
	for _, want := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP} {
		for _, a := range n.Status.Addresses {
			if a.Type == want && addr == "" {
				addr = a.Address
			}
		}
	}
	if addr == "" {
		return Peer{}, false
	}
	name := n.Name
	if k.Cluster != "" {
		name = k.Cluster + "/" + n.Name
	}
	return Peer{
		Name:          name,
		Address:       net.JoinHostPort(addr, strconv.Itoa(k.Port)),
		TLSServerName: peer.TLSServerName(n.Name, k.Cluster),
	}, true
}
