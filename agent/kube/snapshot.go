package kube

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
	listersdiscoveryv1 "k8s.io/client-go/listers/discovery/v1"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/agent/policy"
)

// listers are the informer caches a snapshot is read from.
type listers struct {
	pods       listerscorev1.PodLister
	services   listerscorev1.ServiceLister
	slices     listersdiscoveryv1.EndpointSliceLister
	nodes      listerscorev1.NodeLister
	namespaces listerscorev1.NamespaceLister
}

// snapshot is what one read of the caches yields: what an index is built
// from, and the local node's labels.
type snapshot struct {
	pods     []endpoints.Pod
	services []endpoints.Service
	opts     []endpoints.BuildOption
	// nodeLabels are the local node's labels in Hubble's form; nil when
	// the node is unknown.
	nodeLabels []string
	// namedPorts are the named container ports of pods (by
	// namespace/name), which network policies may name.
	namedPorts map[string][]policy.NamedPort
}

// snapshot reads the caches into the pods, services and nodes an index is
// built from.
func (l *listers) snapshot(cluster, localNode string) (snapshot, error) {
	pods, namedPorts, err := l.podList(cluster)
	if err != nil {
		return snapshot{}, err
	}
	nodes, err := l.nodeList(localNode)
	if err != nil {
		return snapshot{}, err
	}
	services, apiserver, err := l.serviceList(nodes.all)
	if err != nil {
		return snapshot{}, err
	}
	opts := []endpoints.BuildOption{
		endpoints.LocalNode(nodes.local), endpoints.RemoteNodes(nodes.remote), endpoints.KubeAPIServer(apiserver),
	}
	if localNode != "" {
		opts = append(opts, endpoints.KeepLocalPods(localNode))
	}
	return snapshot{pods: pods, services: services, nodeLabels: nodes.localLabels, opts: opts, namedPorts: namedPorts}, nil
}

// podList reads the pods that own addresses. Pods that own no address of
// their own are left out: host-network pods share their node's (host or
// remote-node names it) and finished pods have released theirs, which a
// new pod may hold. Where two pods still claim one address, the one not
// being deleted, then the newer, has it. Their named container ports come
// beside them, by namespace/name.
func (l *listers) podList(cluster string) ([]endpoints.Pod, map[string][]policy.NamedPort, error) {
	nsLabels, nsObserved := map[string]map[string]string{}, map[string]bool{}
	namespaces, err := l.namespaces.List(labels.Everything())
	if err != nil {
		return nil, nil, fmt.Errorf("list namespaces: %w", err)
	}
	for _, ns := range namespaces {
		nsLabels[ns.Name] = ns.Labels
		nsObserved[ns.Name] = endpoints.Observes(ns.Annotations)
	}
	pods, err := l.pods.List(labels.Everything())
	if err != nil {
		return nil, nil, fmt.Errorf("list pods: %w", err)
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
	namedPorts := map[string][]policy.NamedPort{}
	for p, addrs := range byPod {
		if ports := podNamedPorts(p); len(ports) > 0 {
			namedPorts[p.Namespace+"/"+p.Name] = ports
		}
		out = append(out, endpoints.Pod{
			Cluster: cluster, Namespace: p.Namespace, Name: p.Name, Labels: p.Labels,
			NamespaceLabels: nsLabels[p.Namespace], ServiceAccount: p.Spec.ServiceAccountName, Node: p.Spec.NodeName,
			Workload: workloadOf(p), IPs: addrs, Observed: nsObserved[p.Namespace] || endpoints.Observes(p.Annotations),
		})
	}
	return out, namedPorts, nil
}

// podNamedPorts are the named ports of a pod's containers.
func podNamedPorts(p *corev1.Pod) []policy.NamedPort {
	var out []policy.NamedPort
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name != "" && cp.ContainerPort > 0 && cp.ContainerPort <= 65535 {
				out = append(out, policy.NamedPort{Name: cp.Name, Port: uint16(cp.ContainerPort), Proto: policy.ProtoNumber(cp.Protocol)})
			}
		}
	}
	return out
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
