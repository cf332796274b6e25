package relay

import (
	"context"
	"fmt"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
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

// Run reports the nodes until ctx ends. Informer handlers run on one
// goroutine, as PeerLister requires.
func (k KubePeers) Run(ctx context.Context, update func(PeerChange)) error {
	// One Node informer, not a factory: the factory's package links an
	// informer for every API group into the relay.
	nodes := coreinformers.NewNodeInformer(k.Client, 0, cache.Indexers{})
	known := map[string]Peer{} // node name → what was reported
	report := func(obj any) {
		n, ok := obj.(*corev1.Node)
		if !ok {
			return
		}
		p, ok := k.peer(n)
		old, had := known[n.Name]
		switch {
		case !ok && had:
			delete(known, n.Name)
			update(PeerChange{Type: PeerDeleted, Peer: old})
		case !ok:
		case !had:
			known[n.Name] = p
			update(PeerChange{Type: PeerAdded, Peer: p})
		case old != p:
			known[n.Name] = p
			update(PeerChange{Type: PeerUpdated, Peer: p})
		}
	}
	if _, err := nodes.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    report,
		UpdateFunc: func(_, obj any) { report(obj) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if n, ok := obj.(*corev1.Node); ok {
				if old, had := known[n.Name]; had {
					delete(known, n.Name)
					update(PeerChange{Type: PeerDeleted, Peer: old})
				}
			}
		},
	}); err != nil {
		return fmt.Errorf("watch nodes: %w", err)
	}
	if k.Health != nil {
		if err := nodes.SetWatchErrorHandler(k.Health.WatchErrorHandler("nodes")); err != nil {
			return fmt.Errorf("watch nodes: %w", err)
		}
	}
	nodes.Run(ctx.Done())
	return nil
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
