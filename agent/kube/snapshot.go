package kube

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	listerscorev1 "k8s.io/client-go/listers/core/v1"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/agent/record"
)

// listers are the informer caches a snapshot is read from.
type listers struct {
	pods       listerscorev1.PodLister
	services   listerscorev1.ServiceLister
	nodes      listerscorev1.NodeLister
	namespaces listerscorev1.NamespaceLister
}

// snapshot reads the caches into the pods, services and other nodes an
// index is built from. Pods that own no address of their own are left
// out: host-network pods share their node's (host or remote-node names
// it) and finished pods have released theirs, which a new pod may hold.
// Where two pods still claim one address, the one not being deleted, then
// the newer, has it.
func (l *listers) snapshot(cluster, localNode string) ([]endpoints.Pod, []endpoints.Service, []endpoints.BuildOption, error) {
	nsLabels := map[string]map[string]string{}
	namespaces, err := l.namespaces.List(labels.Everything())
	if err != nil {
		return nil, nil, nil, err
	}
	for _, ns := range namespaces {
		nsLabels[ns.Name] = ns.Labels
	}
	pods, err := l.pods.List(labels.Everything())
	if err != nil {
		return nil, nil, nil, err
	}
	owner := map[netip.Addr]*corev1.Pod{}
	for _, p := range pods {
		if p.Spec.HostNetwork || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, a := range podAddrs(p) {
			if prev, ok := owner[a]; !ok || newer(p, prev) {
				owner[a] = p
			}
		}
	}
	byPod := map[*corev1.Pod][]netip.Addr{}
	for a, p := range owner {
		byPod[p] = append(byPod[p], a)
	}
	out := make([]endpoints.Pod, 0, len(byPod))
	for p, addrs := range byPod {
		out = append(out, endpoints.Pod{
			Cluster: cluster, Namespace: p.Namespace, Name: p.Name, Labels: p.Labels,
			NamespaceLabels: nsLabels[p.Namespace], ServiceAccount: p.Spec.ServiceAccountName, Node: p.Spec.NodeName,
			Workload: workloadOf(p), IPs: addrs,
		})
	}
	nodes, err := l.nodes.List(labels.Everything())
	if err != nil {
		return nil, nil, nil, err
	}
	var nodeAddrs, remote []netip.Addr
	for _, n := range nodes {
		for _, a := range n.Status.Addresses {
			if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
				continue
			}
			if addr, err := netip.ParseAddr(a.Address); err == nil {
				nodeAddrs = append(nodeAddrs, addr.Unmap())
				if localNode != "" && n.Name != localNode {
					remote = append(remote, addr.Unmap())
				}
			}
		}
	}
	svcs, err := l.serviceList(nodeAddrs)
	if err != nil {
		return nil, nil, nil, err
	}
	return out, svcs, []endpoints.BuildOption{endpoints.RemoteNodes(remote)}, nil
}

// serviceList reads the services with their frontends: cluster IPs and
// load-balancer addresses on their ports, and every node address on their
// node ports.
func (l *listers) serviceList(nodeAddrs []netip.Addr) ([]endpoints.Service, error) {
	services, err := l.services.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	out := make([]endpoints.Service, 0, len(services))
	for _, s := range services {
		svc := endpoints.Service{Namespace: s.Namespace, Name: s.Name}
		var frontAddrs []netip.Addr
		for _, ip := range s.Spec.ClusterIPs {
			if a, err := netip.ParseAddr(ip); err == nil {
				frontAddrs = append(frontAddrs, a.Unmap())
			}
		}
		for _, ing := range s.Status.LoadBalancer.Ingress {
			if a, err := netip.ParseAddr(ing.IP); err == nil {
				frontAddrs = append(frontAddrs, a.Unmap())
			}
		}
		for _, p := range s.Spec.Ports {
			proto := protocolNumber(p.Protocol)
			for _, a := range frontAddrs {
				svc.Frontends = append(svc.Frontends, endpoints.Frontend{Addr: a, Port: uint16(p.Port), Proto: proto})
			}
			if p.NodePort != 0 {
				for _, a := range nodeAddrs {
					svc.Frontends = append(svc.Frontends, endpoints.Frontend{Addr: a, Port: uint16(p.NodePort), Proto: proto})
				}
			}
		}
		if len(svc.Frontends) > 0 {
			out = append(out, svc)
		}
	}
	return out, nil
}

func protocolNumber(p corev1.Protocol) uint8 {
	switch p {
	case corev1.ProtocolUDP:
		return record.ProtoUDP
	case corev1.ProtocolSCTP:
		return record.ProtoSCTP
	}
	return record.ProtoTCP // Kubernetes' default
}

func podAddrs(p *corev1.Pod) []netip.Addr {
	var out []netip.Addr
	seen := func(a netip.Addr) bool {
		for _, b := range out {
			if a == b {
				return true
			}
		}
		return false
	}
	add := func(s string) {
		if a, err := netip.ParseAddr(s); err == nil && !seen(a.Unmap()) {
			out = append(out, a.Unmap())
		}
	}
	add(p.Status.PodIP)
	for _, ip := range p.Status.PodIPs {
		add(ip.IP)
	}
	return out
}

// newer reports whether a should hold an address b also claims: a pod
// being deleted gives way, then the older pod does.
func newer(a, b *corev1.Pod) bool {
	if (a.DeletionTimestamp == nil) != (b.DeletionTimestamp == nil) {
		return a.DeletionTimestamp == nil
	}
	return b.CreationTimestamp.Before(&a.CreationTimestamp)
}
