package policy

import (
	"net/netip"
	"slices"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"

	"github.com/foveanet/fovea/model/record"
)

func cnp(name string, tier npav1alpha2.Tier, priority int32, action npav1alpha2.ClusterNetworkPolicyRuleAction, from *metav1.LabelSelector) *npav1alpha2.ClusterNetworkPolicy {
	return &npav1alpha2.ClusterNetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1},
		Spec: npav1alpha2.ClusterNetworkPolicySpec{
			Tier: tier, Priority: priority,
			Subject: npav1alpha2.ClusterNetworkPolicySubject{Namespaces: sel("name", "x")},
			Ingress: []npav1alpha2.ClusterNetworkPolicyIngressRule{{
				Action: action, From: []npav1alpha2.ClusterNetworkPolicyIngressPeer{{Namespaces: from}},
				Protocols: []npav1alpha2.ClusterNetworkPolicyProtocol{{TCP: &npav1alpha2.ClusterNetworkPolicyProtocolTCP{
					DestinationPort: &npav1alpha2.Port{Range: &npav1alpha2.PortRange{Start: 80, End: 90}}}}},
			}},
		},
	}
}

func TestEvaluateClusterNetworkPolicies(t *testing.T) {
	allowAll := netpol("x", "allow-all", networkingv1.NetworkPolicySpec{PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{}}})
	for _, tc := range []struct {
		name    string
		cluster []*npav1alpha2.ClusterNetworkPolicy
		np      []*networkingv1.NetworkPolicy
		conn    Conn
		want    Outcome
		by      []string
	}{
		{name: "admin deny overrides a namespace allow",
			cluster: []*npav1alpha2.ClusterNetworkPolicy{cnp("deny-y", npav1alpha2.AdminTier, 10, npav1alpha2.ClusterNetworkPolicyRuleActionDeny, sel("name", "y"))},
			np:      []*networkingv1.NetworkPolicy{allowAll},
			conn:    in(clientY, "10.1.0.2", 80, record.ProtoTCP), want: Denied, by: []string{"/deny-y"}},
		{name: "admin rule outside its ports leaves the namespace's allow",
			cluster: []*npav1alpha2.ClusterNetworkPolicy{cnp("deny-y", npav1alpha2.AdminTier, 10, npav1alpha2.ClusterNetworkPolicyRuleActionDeny, sel("name", "y"))},
			np:      []*networkingv1.NetworkPolicy{allowAll},
			conn:    in(clientY, "10.1.0.2", 91, record.ProtoTCP), want: Allowed, by: []string{"x/allow-all"}},
		{name: "the lower priority number wins",
			cluster: []*npav1alpha2.ClusterNetworkPolicy{
				cnp("deny-y", npav1alpha2.AdminTier, 20, npav1alpha2.ClusterNetworkPolicyRuleActionDeny, sel("name", "y")),
				cnp("accept-y", npav1alpha2.AdminTier, 10, npav1alpha2.ClusterNetworkPolicyRuleActionAccept, sel("name", "y")),
			},
			conn: in(clientY, "10.1.0.2", 80, record.ProtoTCP), want: Allowed, by: []string{"/accept-y"}},
		{name: "pass hands over to the namespace's policies",
			cluster: []*npav1alpha2.ClusterNetworkPolicy{
				cnp("pass-y", npav1alpha2.AdminTier, 10, npav1alpha2.ClusterNetworkPolicyRuleActionPass, sel("name", "y")),
				cnp("deny-y", npav1alpha2.AdminTier, 20, npav1alpha2.ClusterNetworkPolicyRuleActionDeny, sel("name", "y")),
			},
			np:   []*networkingv1.NetworkPolicy{allowAll},
			conn: in(clientY, "10.1.0.2", 80, record.ProtoTCP), want: Allowed, by: []string{"x/allow-all"}},
		{name: "baseline decides where no NetworkPolicy isolates",
			cluster: []*npav1alpha2.ClusterNetworkPolicy{cnp("baseline-deny", npav1alpha2.BaselineTier, 10, npav1alpha2.ClusterNetworkPolicyRuleActionDeny, sel())},
			conn:    in(clientY, "10.1.0.2", 80, record.ProtoTCP), want: Denied, by: []string{"/baseline-deny"}},
		{name: "a NetworkPolicy overrides the baseline",
			cluster: []*npav1alpha2.ClusterNetworkPolicy{cnp("baseline-deny", npav1alpha2.BaselineTier, 10, npav1alpha2.ClusterNetworkPolicyRuleActionDeny, sel())},
			np:      []*networkingv1.NetworkPolicy{allowAll},
			conn:    in(clientY, "10.1.0.2", 80, record.ProtoTCP), want: Allowed, by: []string{"x/allow-all"}},
		{name: "a subject outside the selected namespaces",
			cluster: []*npav1alpha2.ClusterNetworkPolicy{cnp("deny-y", npav1alpha2.AdminTier, 10, npav1alpha2.ClusterNetworkPolicyRuleActionDeny, sel("name", "y"))},
			conn:    Conn{Dir: Ingress, Local: clientY, Peer: clientY, PeerAddr: netip.MustParseAddr("10.1.0.2"), Port: 80, Proto: record.ProtoTCP}, want: NotIsolated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ps []*Policy
			for _, c := range tc.cluster {
				p, err := CompileClusterNetworkPolicy(c)
				if err != nil {
					t.Fatal(err)
				}
				ps = append(ps, p)
			}
			for _, np := range tc.np {
				p, err := CompileNetworkPolicy(np)
				if err != nil {
					t.Fatal(err)
				}
				ps = append(ps, p)
			}
			r := NewSnapshot(ps, nil, 1).Evaluate(&tc.conn)
			if r.Outcome != tc.want || !slices.Equal(names(r.Policies), tc.by) {
				t.Fatalf("outcome %d by %v, want %d by %v", r.Outcome, names(r.Policies), tc.want, tc.by)
			}
		})
	}
}

func TestCompileClusterNetworkPolicyRefusesPassInBaseline(t *testing.T) {
	_, err := CompileClusterNetworkPolicy(cnp("p", npav1alpha2.BaselineTier, 1, npav1alpha2.ClusterNetworkPolicyRuleActionPass, sel()))
	if err == nil {
		t.Fatal("a Baseline Pass compiled")
	}
}
