package policy

import (
	"fmt"
	"net/netip"
	"strconv"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/foveanet/fovea/model/record"
)

// Policy kinds as flows name them (Hubble's Policy.kind).
const (
	KindNetworkPolicy        = "NetworkPolicy"
	KindClusterNetworkPolicy = "ClusterNetworkPolicy"
)

// Label keys Cilium gives a policy's rules, which Hubble clients read a
// Policy's kind, name and namespace from (Policy.labels).
const (
	labelDerivedFrom = "k8s:io.cilium.k8s.policy.derived-from="
	labelName        = "k8s:io.cilium.k8s.policy.name="
	labelNamespace   = "k8s:io.cilium.k8s.policy.namespace="
	labelUID         = "k8s:io.cilium.k8s.policy.uid="
)

// policyID names a policy as Hubble does; the revision is the object's
// generation, which its spec's every change raises.
func policyID(kind string, meta *metav1.ObjectMeta) *flowpb.Policy {
	lbls := []string{labelDerivedFrom + kind, labelName + meta.Name}
	if meta.Namespace != "" {
		lbls = append(lbls, labelNamespace+meta.Namespace)
	}
	if meta.UID != "" {
		lbls = append(lbls, labelUID+string(meta.UID))
	}
	return &flowpb.Policy{
		Kind: kind, Name: meta.Name, Namespace: meta.Namespace, Labels: lbls, Revision: uint64(max(meta.Generation, 0)),
	}
}

func policyKey(kind string, meta *metav1.ObjectMeta) string {
	return kind + "/" + meta.Namespace + "/" + meta.Name + "@" + strconv.FormatInt(meta.Generation, 10)
}

// CompileNetworkPolicy compiles np. An invalid selector, CIDR or port is
// an error naming the field: the API server validates them, so one means
// a policy Fovea cannot evaluate, never one to guess at.
func CompileNetworkPolicy(np *networkingv1.NetworkPolicy) (*Policy, error) {
	p := &Policy{
		ID: policyID(KindNetworkPolicy, &np.ObjectMeta), Key: policyKey(KindNetworkPolicy, &np.ObjectMeta),
		Tier: TierNetworkPolicy, Namespace: np.Namespace,
	}
	sel, err := labelSelector(&np.Spec.PodSelector, "spec.podSelector")
	if err != nil {
		return nil, err
	}
	p.subject = selector{pods: sel, namespace: np.Namespace}
	types := np.Spec.PolicyTypes
	if len(types) == 0 {
		// The API server defaults them so; a policy read from elsewhere may
		// leave them out.
		types = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(np.Spec.Egress) > 0 {
			types = append(types, networkingv1.PolicyTypeEgress)
		}
	}
	for _, t := range types {
		switch t {
		case networkingv1.PolicyTypeIngress:
			p.isolates[Ingress] = true
		case networkingv1.PolicyTypeEgress:
			p.isolates[Egress] = true
		default:
			return nil, fmt.Errorf("spec.policyTypes: unknown type %q", t)
		}
	}
	for i, r := range np.Spec.Ingress {
		c, err := compileRule(np.Namespace, r.From, r.Ports, fmt.Sprintf("spec.ingress[%d]", i), "from")
		if err != nil {
			return nil, err
		}
		p.rules[Ingress] = append(p.rules[Ingress], c)
	}
	for i, r := range np.Spec.Egress {
		c, err := compileRule(np.Namespace, r.To, r.Ports, fmt.Sprintf("spec.egress[%d]", i), "to")
		if err != nil {
			return nil, err
		}
		p.rules[Egress] = append(p.rules[Egress], c)
	}
	p.nameRules()
	return p, nil
}

func compileRule(namespace string, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort, field, peersField string) (rule, error) {
	r := rule{action: Allow, anyPeer: len(peers) == 0}
	for i := range peers {
		pr, err := compilePeer(namespace, &peers[i], fmt.Sprintf("%s.%s[%d]", field, peersField, i))
		if err != nil {
			return rule{}, err
		}
		r.peers = append(r.peers, pr)
	}
	for i := range ports {
		pt, err := compilePort(&ports[i], fmt.Sprintf("%s.ports[%d]", field, i))
		if err != nil {
			return rule{}, err
		}
		r.ports = append(r.ports, pt)
	}
	return r, nil
}

func compilePeer(namespace string, np *networkingv1.NetworkPolicyPeer, field string) (peer, error) {
	if b := np.IPBlock; b != nil {
		cidr, err := netip.ParsePrefix(b.CIDR)
		if err != nil {
			return peer{}, fmt.Errorf("%s.ipBlock.cidr: %w", field, err)
		}
		pr := peer{nets: []netip.Prefix{cidr.Masked()}}
		for i, e := range b.Except {
			ex, err := netip.ParsePrefix(e)
			if err != nil {
				return peer{}, fmt.Errorf("%s.ipBlock.except[%d]: %w", field, i, err)
			}
			pr.except = append(pr.except, ex.Masked())
		}
		return pr, nil
	}
	s := &selector{}
	var err error
	if np.PodSelector != nil {
		if s.pods, err = labelSelector(np.PodSelector, field+".podSelector"); err != nil {
			return peer{}, err
		}
	}
	if np.NamespaceSelector != nil {
		if s.namespaces, err = labelSelector(np.NamespaceSelector, field+".namespaceSelector"); err != nil {
			return peer{}, err
		}
	} else {
		s.namespace = namespace // a pod selector alone: the policy's namespace
	}
	return peer{pods: s}, nil
}

func compilePort(np *networkingv1.NetworkPolicyPort, field string) (port, error) {
	proto, err := protoNumber(np.Protocol)
	if err != nil {
		return port{}, fmt.Errorf("%s.protocol: %w", field, err)
	}
	pt := port{proto: proto}
	if np.Port == nil {
		return pt, nil
	}
	if np.Port.Type == intstr.String {
		pt.name = np.Port.StrVal
		return pt, nil
	}
	n := np.Port.IntVal
	if n < 1 || n > 65535 {
		return port{}, fmt.Errorf("%s.port: %d is not a port", field, n)
	}
	pt.port, pt.end = uint16(n), uint16(n)
	if np.EndPort != nil {
		if *np.EndPort < n || *np.EndPort > 65535 {
			return port{}, fmt.Errorf("%s.endPort: %d is not a port at or above %d", field, *np.EndPort, n)
		}
		pt.end = uint16(*np.EndPort)
	}
	return pt, nil
}

// protoNumber is the IANA number of a Kubernetes protocol; TCP when unset.
func protoNumber(p *corev1.Protocol) (uint8, error) {
	if p == nil {
		return record.ProtoTCP, nil
	}
	switch *p {
	case corev1.ProtocolTCP:
		return record.ProtoTCP, nil
	case corev1.ProtocolUDP:
		return record.ProtoUDP, nil
	case corev1.ProtocolSCTP:
		return record.ProtoSCTP, nil
	}
	return 0, fmt.Errorf("unknown protocol %q", *p)
}

// ProtoNumber is the IANA number of a container port's protocol (TCP when
// unset), for Pod.Ports; zero for an unknown one.
func ProtoNumber(p corev1.Protocol) uint8 {
	if p == "" {
		return record.ProtoTCP
	}
	n, _ := protoNumber(&p)
	return n
}

func labelSelector(s *metav1.LabelSelector, field string) (labels.Selector, error) {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return sel, nil
}
