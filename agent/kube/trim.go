package kube

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/foveanet/fovea/agent/endpoints"
)

// trimmer returns the informers' transform for an agent on localNode (all
// pods count as remote when it is empty), so that informer memory stays
// proportional to the cluster's addresses and labels rather than to its
// pod specs and node images. The pods on this node are kept in full but
// for their managed fields: they are at most the node's pod limit, and
// they are the pods whose whole spec the node's own features may read. A
// pod elsewhere keeps only what labels its flows here (name, labels,
// controller, node, service account, phase, addresses, Retina's
// annotation) and, with namedPorts (network policies are evaluated), its
// named container ports, which policies may name; an EndpointSlice its service, serving addresses and ports;
// a Node its labels and addresses; any other object loses its managed
// fields and annotations but Retina's (which selects a namespace's pods).
func trimmer(localNode string, namedPorts bool) cache.TransformFunc {
	return func(obj any) (any, error) {
		switch o := obj.(type) {
		case *corev1.Pod:
			if localNode != "" && o.Spec.NodeName == localNode {
				o.SetManagedFields(nil)
				return o, nil
			}
			return trimRemotePod(o, namedPorts), nil
		case *discoveryv1.EndpointSlice:
			return trimEndpointSlice(o), nil
		case *corev1.Node:
			return &corev1.Node{
				ObjectMeta: metav1.ObjectMeta{Name: o.Name, ResourceVersion: o.ResourceVersion, Labels: o.Labels},
				Status:     corev1.NodeStatus{Addresses: o.Status.Addresses},
			}, nil
		case metav1.Object:
			o.SetManagedFields(nil)
			o.SetAnnotations(observeAnnotation(o.GetAnnotations()))
		}
		return obj, nil
	}
}

// podMeta keeps a pod's identity, labels, controller (the workload) and
// the timestamps that decide who holds a reused address.
func podMeta(o *corev1.Pod) metav1.ObjectMeta {
	m := metav1.ObjectMeta{
		Name: o.Name, Namespace: o.Namespace, ResourceVersion: o.ResourceVersion, Labels: o.Labels,
		CreationTimestamp: o.CreationTimestamp, DeletionTimestamp: o.DeletionTimestamp,
		Annotations: observeAnnotation(o.Annotations),
	}
	if c := metav1.GetControllerOfNoCopy(o); c != nil {
		m.OwnerReferences = []metav1.OwnerReference{{Kind: c.Kind, Name: c.Name, Controller: c.Controller}}
	}
	return m
}

func trimRemotePod(o *corev1.Pod, namedPorts bool) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: podMeta(o),
		Spec:       corev1.PodSpec{NodeName: o.Spec.NodeName, ServiceAccountName: o.Spec.ServiceAccountName},
		Status:     corev1.PodStatus{Phase: o.Status.Phase},
	}
	if namedPorts {
		// A container of its named ports only: 390 B a pod with one.
		p.Spec.Containers = namedPortsOnly(o.Spec.Containers)
	}
	// A host-network pod's addresses are its node's, which it must not
	// claim; dropping them spares keeping the flag.
	if !o.Spec.HostNetwork {
		p.Status.PodIPs = o.Status.PodIPs
		if len(p.Status.PodIPs) == 0 && o.Status.PodIP != "" {
			p.Status.PodIPs = []corev1.PodIP{{IP: o.Status.PodIP}}
		}
	}
	return p
}

// namedPortsOnly keeps of containers their named ports, which network
// policies may name: nothing for the many pods that have none.
func namedPortsOnly(containers []corev1.Container) []corev1.Container {
	var out []corev1.Container
	for _, c := range containers {
		var ports []corev1.ContainerPort
		for _, p := range c.Ports {
			if p.Name != "" {
				ports = append(ports, corev1.ContainerPort{Name: p.Name, ContainerPort: p.ContainerPort, Protocol: p.Protocol})
			}
		}
		if len(ports) > 0 {
			out = append(out, corev1.Container{Ports: ports})
		}
	}
	return out
}

func trimEndpointSlice(o *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: o.Name, Namespace: o.Namespace, ResourceVersion: o.ResourceVersion,
			Labels: map[string]string{discoveryv1.LabelServiceName: o.Labels[discoveryv1.LabelServiceName]},
		},
		AddressType: o.AddressType,
	}
	for _, e := range o.Endpoints {
		if serving(e.Conditions) {
			s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: e.Addresses, Conditions: e.Conditions})
		}
	}
	for _, p := range o.Ports {
		s.Ports = append(s.Ports, discoveryv1.EndpointPort{Port: p.Port, Protocol: p.Protocol})
	}
	return s
}

// serving reports whether an endpoint takes a service's connections: it
// is ready (nil means ready), or terminating but still serving the
// connections it has, which flows keep attributing to the service.
func serving(c discoveryv1.EndpointConditions) bool {
	return c.Ready == nil || *c.Ready || (c.Serving != nil && *c.Serving)
}

// observeAnnotation keeps of annotations only Retina's, which selects pods
// (on a pod or its namespace) for Retina's adv_* series.
func observeAnnotation(annotations map[string]string) map[string]string {
	if !endpoints.Observes(annotations) {
		return nil
	}
	return map[string]string{endpoints.ObserveAnnotation: endpoints.ObserveValue}
}
