package policy

import (
	"fmt"
	"net/netip"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"

	"github.com/foveanet/fovea/model/record"
)

// CompileClusterNetworkPolicy compiles a ClusterNetworkPolicy of
// sigs.k8s.io/network-policy-api (policy.networking.k8s.io/v1alpha2, served
// by the CRDs of v0.2.0 and v0.3.0 alike), which replaced
// AdminNetworkPolicy and BaselineAdminNetworkPolicy with its Admin and
// Baseline tiers. Peers Fovea cannot place (nodes, domain
// names) never match: a rule naming only them decides nothing here.
func CompileClusterNetworkPolicy(cnp *npav1alpha2.ClusterNetworkPolicy) (*Policy, error) {
	p := &Policy{
		ID: policyID(KindClusterNetworkPolicy, &cnp.ObjectMeta), Key: policyKey(KindClusterNetworkPolicy, &cnp.ObjectMeta),
		Priority: cnp.Spec.Priority,
	}
	switch cnp.Spec.Tier {
	case npav1alpha2.AdminTier:
		p.Tier = TierAdmin
	case npav1alpha2.BaselineTier:
		p.Tier = TierBaseline
	default:
		return nil, fmt.Errorf("spec.tier: unknown tier %q", cnp.Spec.Tier)
	}
	subject, err := clusterSelector(cnp.Spec.Subject.Namespaces, cnp.Spec.Subject.Pods, "spec.subject")
	if err != nil {
		return nil, err
	}
	p.subject = *subject
	for i, r := range cnp.Spec.Ingress {
		field := fmt.Sprintf("spec.ingress[%d]", i)
		ru := rule{name: r.Name}
		if ru.action, err = clusterAction(r.Action, p.Tier, field); err != nil {
			return nil, err
		}
		for j, from := range r.From {
			s, err := clusterSelector(from.Namespaces, from.Pods, fmt.Sprintf("%s.from[%d]", field, j))
			if err != nil {
				return nil, err
			}
			ru.peers = append(ru.peers, peer{pods: s})
		}
		if ru.ports, err = clusterPorts(r.Protocols, field); err != nil {
			return nil, err
		}
		p.rules[Ingress] = append(p.rules[Ingress], ru)
	}
	for i, r := range cnp.Spec.Egress {
		field := fmt.Sprintf("spec.egress[%d]", i)
		ru := rule{name: r.Name}
		if ru.action, err = clusterAction(r.Action, p.Tier, field); err != nil {
			return nil, err
		}
		for j, to := range r.To {
			pf := fmt.Sprintf("%s.to[%d]", field, j)
			switch {
			case to.Namespaces != nil || to.Pods != nil:
				s, err := clusterSelector(to.Namespaces, to.Pods, pf)
				if err != nil {
					return nil, err
				}
				ru.peers = append(ru.peers, peer{pods: s})
			case len(to.Networks) > 0:
				pr := peer{}
				for k, n := range to.Networks {
					cidr, err := netip.ParsePrefix(string(n))
					if err != nil {
						return nil, fmt.Errorf("%s.networks[%d]: %w", pf, k, err)
					}
					pr.nets = append(pr.nets, cidr.Masked())
				}
				ru.peers = append(ru.peers, pr)
			default: // nodes, domain names
				ru.peers = append(ru.peers, peer{nodes: true})
			}
		}
		if ru.ports, err = clusterPorts(r.Protocols, field); err != nil {
			return nil, err
		}
		p.rules[Egress] = append(p.rules[Egress], ru)
	}
	p.nameRules()
	return p, nil
}

func clusterAction(a npav1alpha2.ClusterNetworkPolicyRuleAction, tier Tier, field string) (Action, error) {
	switch a {
	case npav1alpha2.ClusterNetworkPolicyRuleActionAccept:
		return Allow, nil
	case npav1alpha2.ClusterNetworkPolicyRuleActionDeny:
		return Deny, nil
	case npav1alpha2.ClusterNetworkPolicyRuleActionPass:
		if tier == TierAdmin {
			return Pass, nil
		}
	}
	return 0, fmt.Errorf("%s.action: %q is not an action of this tier", field, a)
}

// clusterSelector is a subject or peer: every pod of the selected
// namespaces, or the selected pods of the selected namespaces.
func clusterSelector(namespaces *metav1.LabelSelector, pods *npav1alpha2.NamespacedPod, field string) (*selector, error) {
	s := &selector{}
	var err error
	switch {
	case namespaces != nil:
		if s.namespaces, err = labelSelector(namespaces, field+".namespaces"); err != nil {
			return nil, err
		}
	case pods != nil:
		if s.namespaces, err = labelSelector(&pods.NamespaceSelector, field+".pods.namespaceSelector"); err != nil {
			return nil, err
		}
		if s.pods, err = labelSelector(&pods.PodSelector, field+".pods.podSelector"); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s: neither namespaces nor pods", field)
	}
	return s, nil
}

func clusterPorts(protocols []npav1alpha2.ClusterNetworkPolicyProtocol, field string) ([]port, error) {
	var out []port
	for i, pr := range protocols {
		f := fmt.Sprintf("%s.protocols[%d]", field, i)
		var dp *npav1alpha2.Port
		var proto uint8
		switch {
		case pr.TCP != nil:
			proto, dp = record.ProtoTCP, pr.TCP.DestinationPort
		case pr.UDP != nil:
			proto, dp = record.ProtoUDP, pr.UDP.DestinationPort
		case pr.SCTP != nil:
			proto, dp = record.ProtoSCTP, pr.SCTP.DestinationPort
		case pr.DestinationNamedPort != "":
			// A name, for any protocol the destination pod gives it.
			for _, p := range []uint8{record.ProtoTCP, record.ProtoUDP, record.ProtoSCTP} {
				out = append(out, port{proto: p, name: pr.DestinationNamedPort})
			}
			continue
		default:
			return nil, fmt.Errorf("%s: no protocol", f)
		}
		pt := port{proto: proto}
		if dp != nil {
			lo, hi := dp.Number, dp.Number
			if dp.Range != nil {
				lo, hi = dp.Range.Start, dp.Range.End
			}
			if lo < 1 || hi > 65535 || hi < lo {
				return nil, fmt.Errorf("%s.destinationPort: %d-%d is not a port range", f, lo, hi)
			}
			pt.port, pt.end = uint16(lo), uint16(hi)
		}
		out = append(out, pt)
	}
	return out, nil
}
