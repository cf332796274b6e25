package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/traffic"
)

// Without controllers, kubelets or a scheduler, the objects below are what
// they would have made: ReplicaSets owned by Deployments, Pods owned by
// ReplicaSets and bound to nodes, statuses with addresses.

// Pod describes a Deployment's pod to create.
type Pod struct {
	Namespace, Name, Node string
	// Labels must hold "app" (the Deployment's name) and
	// "pod-template-hash" (its ReplicaSet's suffix).
	Labels map[string]string
	IPs    []netip.Addr
	// Ports are its container's ports, which network policies may name.
	Ports []corev1.ContainerPort
	// HostIP is its node's address, as the kubelet reports it (network
	// policy enforcers find their node's pods by it).
	HostIP netip.Addr
}

// ServerPorts are the named ports of the servers test/traffic runs in
// every pod, which Describe gives its pods: "http" (TCP) and "echo" (UDP).
var ServerPorts = []corev1.ContainerPort{
	{Name: "http", ContainerPort: int32(traffic.TCPPort), Protocol: corev1.ProtocolTCP},
	{Name: "echo", ContainerPort: int32(traffic.UDPPort), Protocol: corev1.ProtocolUDP},
}

// Describe creates the Nodes (labelled with NodeLabels), Namespaces,
// Deployments, ReplicaSets and Pods of t, each pod with its netns
// addresses as its status, and for each Deployment a Service of the same
// name with the EndpointSlice the endpointslice controller would make.
func Describe(ctx context.Context, c kubernetes.Interface, t cluster.Topology) error {
	for i, n := range t.Nodes {
		if err := CreateNode(ctx, c, n.Name, n.IPv4, n.IPv6); err != nil {
			return err
		}
		if err := LabelNode(ctx, c, n.Name, NodeLabels(t, i)); err != nil {
			return err
		}
	}
	hostIPs := map[string]netip.Addr{}
	for _, n := range t.Nodes {
		hostIPs[n.Name] = n.IPv4
	}
	for _, p := range t.Pods() {
		pod := Pod{Namespace: p.Namespace, Name: p.Name, Node: p.Node, Labels: p.Labels, IPs: []netip.Addr{p.IPv4, p.IPv6}, Ports: ServerPorts,
			HostIP: hostIPs[p.Node]}
		if err := CreatePod(ctx, c, pod); err != nil {
			return err
		}
	}
	return describeServices(ctx, c, t)
}

// NodeLabels are the labels Describe gives t's node i: what a kubelet
// sets, and a zone of its own.
func NodeLabels(t cluster.Topology, i int) map[string]string {
	return map[string]string{
		"kubernetes.io/hostname":      t.Nodes[i].Name,
		"kubernetes.io/os":            "linux",
		"topology.kubernetes.io/zone": "zone-" + strconv.Itoa(i),
	}
}

// LabelNode adds labels to node name's, replacing the values of keys it
// already has.
func LabelNode(ctx context.Context, c kubernetes.Interface, name string, labels map[string]string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
	if err != nil {
		return fmt.Errorf("label node %s: %w", name, err)
	}
	if _, err := c.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("label node %s: %w", name, err)
	}
	return nil
}

// CreateNode creates a ready Node with addrs as its internal IPs.
func CreateNode(ctx context.Context, c kubernetes.Interface, name string, addrs ...netip.Addr) error {
	node, err := c.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create node %s: %w", name, err)
	}
	for _, a := range addrs {
		node.Status.Addresses = append(node.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: a.String()})
	}
	node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	if _, err := c.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("set node %s status: %w", name, err)
	}
	return nil
}

// CreatePod creates p, owned by the ReplicaSet of the Deployment its labels
// name (both created if missing, as is its namespace), then sets its status:
// Running with p.IPs.
func CreatePod(ctx context.Context, c kubernetes.Interface, p Pod) error {
	app, hash := p.Labels["app"], p.Labels["pod-template-hash"]
	if app == "" || hash == "" {
		return fmt.Errorf("create pod %s/%s: labels %v lack app or pod-template-hash", p.Namespace, p.Name, p.Labels)
	}
	if err := ensureNamespace(ctx, c, p.Namespace); err != nil {
		return err
	}
	rs, err := ensureReplicaSet(ctx, c, p.Namespace, app, hash)
	if err != nil {
		return err
	}
	isController := true
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: p.Namespace, Name: p.Name, Labels: p.Labels,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &isController,
			}},
		},
		Spec: corev1.PodSpec{
			NodeName:           p.Node,
			ServiceAccountName: "default",
			Containers:         []corev1.Container{{Name: app, Image: "registry.k8s.io/pause:3.10", Ports: p.Ports}},
		},
	}
	created, err := c.CoreV1().Pods(p.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	created.Status.Phase = corev1.PodRunning
	if p.HostIP.IsValid() {
		created.Status.HostIP = p.HostIP.String()
		created.Status.HostIPs = []corev1.HostIP{{IP: p.HostIP.String()}}
	}
	for i, a := range p.IPs {
		if i == 0 {
			created.Status.PodIP = a.String()
		}
		created.Status.PodIPs = append(created.Status.PodIPs, corev1.PodIP{IP: a.String()})
	}
	if _, err := c.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("set pod %s/%s status: %w", p.Namespace, p.Name, err)
	}
	return nil
}

func ensureNamespace(ctx context.Context, c kubernetes.Interface, name string) error {
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// ensureReplicaSet returns the ReplicaSet <app>-<hash> of Deployment app,
// creating both if missing.
func ensureReplicaSet(ctx context.Context, c kubernetes.Interface, namespace, app, hash string) (*appsv1.ReplicaSet, error) {
	name := app + "-" + hash
	if rs, err := c.AppsV1().ReplicaSets(namespace).Get(ctx, name, metav1.GetOptions{}); err == nil {
		return rs, nil
	} else if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("get replicaset %s/%s: %w", namespace, name, err)
	}
	template := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: app, Image: "registry.k8s.io/pause:3.10"}}},
	}
	dep, err := c.AppsV1().Deployments(namespace).Get(ctx, app, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		dep, err = c.AppsV1().Deployments(namespace).Create(ctx, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: app, Labels: map[string]string{"app": app}},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
				Template: template,
			},
		}, metav1.CreateOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("create deployment %s/%s: %w", namespace, app, err)
	}
	isController := true
	rsLabels := map[string]string{"app": app, "pod-template-hash": hash}
	template.Labels = rsLabels
	rs, err := c.AppsV1().ReplicaSets(namespace).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace, Name: name, Labels: rsLabels,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "Deployment", Name: dep.Name, UID: dep.UID, Controller: &isController,
			}},
		},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: rsLabels}, Template: template},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create replicaset %s/%s: %w", namespace, name, err)
	}
	return rs, nil
}
