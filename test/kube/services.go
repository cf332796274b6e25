package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/traffic"
)

// ManagedBy is the endpointslice.kubernetes.io/managed-by of the
// EndpointSlices Describe creates in the endpointslice controller's stead.
const ManagedBy = "fovea-test-harness"

// servicePorts are the ports of every Describe'd Service: the traffic
// servers' in every pod.
var servicePorts = []struct {
	name     string
	port     uint16
	protocol corev1.Protocol
}{
	{"http", traffic.TCPPort, corev1.ProtocolTCP},
	{"udp", traffic.UDPPort, corev1.ProtocolUDP},
}

// describeServices creates a ClusterIP Service per Deployment (namespace
// and app label) of t, selecting its pods, and the IPv4 EndpointSlice
// listing them ready: the cluster's service range is IPv4 only.
func describeServices(ctx context.Context, c kubernetes.Interface, t cluster.Topology) error {
	type key struct{ namespace, app string }
	var order []key
	backends := map[key][]cluster.Pod{}
	for _, p := range t.Pods() {
		k := key{p.Namespace, p.Labels["app"]}
		if _, ok := backends[k]; !ok {
			order = append(order, k)
		}
		backends[k] = append(backends[k], p)
	}
	for _, k := range order {
		if err := createService(ctx, c, k.namespace, k.app, backends[k]); err != nil {
			return err
		}
	}
	return nil
}

func createService(ctx context.Context, c kubernetes.Interface, namespace, app string, pods []cluster.Pod) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: app, Labels: map[string]string{"app": app}},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": app}},
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: app + "-ipv4", Labels: map[string]string{
			discoveryv1.LabelServiceName: app, discoveryv1.LabelManagedBy: ManagedBy,
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	for _, p := range servicePorts {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{
			Name: p.name, Port: int32(p.port), TargetPort: intstr.FromInt32(int32(p.port)), Protocol: p.protocol,
		})
		slice.Ports = append(slice.Ports, discoveryv1.EndpointPort{Name: new(p.name), Port: new(int32(p.port)), Protocol: new(p.protocol)})
	}
	for _, p := range pods {
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{p.IPv4.String()},
			Conditions: discoveryv1.EndpointConditions{Ready: new(true), Serving: new(true), Terminating: new(false)},
			NodeName:   new(p.Node),
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name},
		})
	}
	if _, err := c.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create service %s/%s: %w", namespace, app, err)
	}
	if _, err := c.DiscoveryV1().EndpointSlices(namespace).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create endpointslice %s/%s: %w", namespace, slice.Name, err)
	}
	return nil
}
