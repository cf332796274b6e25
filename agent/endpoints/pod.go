package endpoints

import (
	"net/netip"
	"slices"
	"strings"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// Label keys Cilium adds to every pod's labels, in the "k8s:" source.
const (
	LabelNamespace      = "io.kubernetes.pod.namespace"
	LabelServiceAccount = "io.cilium.k8s.policy.serviceaccount"
	LabelCluster        = "io.cilium.k8s.policy.cluster"
	// LabelNamespaceMeta prefixes the labels of the pod's namespace.
	LabelNamespaceMeta = "io.cilium.k8s.namespace.labels"
	sourceK8s          = "k8s:"
)

// Workload is the controller that owns a pod at the top of its owner
// chain: a Deployment (through its ReplicaSet), StatefulSet, DaemonSet,
// Job or CronJob.
type Workload struct {
	Kind, Name string
}

// Pod is what enrichment needs to know about a pod.
type Pod struct {
	Cluster, Namespace, Name string
	Labels                   map[string]string
	// NamespaceLabels are the labels of the pod's namespace, which Cilium
	// makes part of the pod's identity.
	NamespaceLabels map[string]string
	ServiceAccount  string
	Node            string
	// IPs are the pod's addresses (status.podIPs).
	IPs []netip.Addr
	// Workload is the pod's owner; the zero Workload means a bare pod.
	Workload Workload
	// Observed says the pod or its namespace carries Retina's
	// ObserveAnnotation, which selects pods for Retina's adv_* series.
	Observed bool
}

// Retina's annotation of the pods and namespaces whose pods its advanced
// metrics observe, and its value.
const (
	ObserveAnnotation = "retina.sh"
	ObserveValue      = "observe"
)

// Observes reports whether annotations carry Retina's ObserveAnnotation.
func Observes(annotations map[string]string) bool {
	return annotations[ObserveAnnotation] == ObserveValue
}

// IdentityLabels returns the pod's identity labels in Cilium's form
// ("k8s:key=value"), sorted: the labels Hubble shows on a flow endpoint
// and derives the endpoint's identity from. Labels Cilium leaves out of
// identities (pod-template-hash, controller-revision-hash, most
// kubernetes.io keys) are left out here too.
func (p *Pod) IdentityLabels() []string {
	out := make([]string, 0, len(p.Labels)+len(p.NamespaceLabels)+3)
	add := func(k, v string) {
		if IdentityRelevant(k) {
			out = append(out, sourceK8s+k+"="+v)
		}
	}
	for k, v := range p.Labels {
		add(k, v)
	}
	for k, v := range p.NamespaceLabels {
		add(LabelNamespaceMeta+"."+k, v)
	}
	add(LabelNamespace, p.Namespace)
	sa := p.ServiceAccount
	if sa == "" {
		sa = "default" // what Kubernetes assigns a pod that names none
	}
	add(LabelServiceAccount, sa)
	if p.Cluster != "" {
		add(LabelCluster, p.Cluster)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Endpoint returns the pod as a flow endpoint. The result is new and may be
// interned: nothing else references it.
func (p *Pod) Endpoint() *flowpb.Endpoint {
	labels := p.IdentityLabels()
	ep := &flowpb.Endpoint{
		Identity:    Identity(labels),
		ClusterName: p.Cluster,
		Namespace:   p.Namespace,
		PodName:     p.Name,
		Labels:      labels,
	}
	if p.Workload != (Workload{}) {
		ep.Workloads = []*flowpb.Workload{{Kind: p.Workload.Kind, Name: p.Workload.Name}}
	}
	return ep
}

// key identifies the pod's endpoint by content: a pod whose labels,
// workload or cluster change gets a new intern entry, while the records
// written before keep the old one.
func (p *Pod) key(labels []string) string {
	var b strings.Builder
	for _, s := range []string{p.Cluster, p.Namespace, p.Name, p.Workload.Kind, p.Workload.Name} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	for _, l := range labels {
		b.WriteString(l)
		b.WriteByte(0)
	}
	return b.String()
}
