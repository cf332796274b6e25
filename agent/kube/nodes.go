package kube

import (
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// nodeAddrs are the cluster's node addresses, split by whose they are.
type nodeAddrs struct {
	all, local, remote []netip.Addr
	localLabels        []string
}

// nodeList reads the nodes' internal and external addresses, and the
// local node's labels. Without a local node name every node is neither
// local nor remote: its addresses are left to the reserved enricher.
func (l *listers) nodeList(localNode string) (nodeAddrs, error) {
	var out nodeAddrs
	nodes, err := l.nodes.List(labels.Everything())
	if err != nil {
		return out, fmt.Errorf("list nodes: %w", err)
	}
	for _, n := range nodes {
		isLocal := localNode != "" && n.Name == localNode
		if isLocal {
			out.localLabels = hubbleNodeLabels(n.Labels)
		}
		for _, a := range n.Status.Addresses {
			if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
				continue
			}
			addr, err := netip.ParseAddr(a.Address)
			if err != nil {
				continue
			}
			addr = addr.Unmap()
			out.all = append(out.all, addr)
			switch {
			case isLocal:
				out.local = append(out.local, addr)
			case localNode != "":
				out.remote = append(out.remote, addr)
			}
		}
	}
	return out, nil
}

// hubbleNodeLabels formats a Node's labels as Cilium's Hubble writes them
// in a flow's node_labels (pkg/hubble/observer/local_node_watcher.go):
// "key=value", sorted, without a source prefix.
func hubbleNodeLabels(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}
