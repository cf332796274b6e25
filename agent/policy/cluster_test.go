package policy

import (
	"net/netip"
	"slices"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	npav1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/foveanet/fovea/model/record"
)

func cnp(name string, tier npav1beta1.Tier, priority int32, action npav1beta1.ClusterNetworkPolicyRuleAction, from *metav1.LabelSelector) *npav1beta1.ClusterNetworkPolicy {
	return &npav1beta1.ClusterNetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1},
		Spec: npav1beta1.ClusterNetworkPolicySpec{
			Tier: tier, Priority: priority,
			Subject: npav1beta1.ClusterNetworkPolicySubject{Namespaces: sel("name", "x")},
			Ingress: []npav1beta1.ClusterNetworkPolicyIngressRule{{
				Action: action, From: []npav1beta1.ClusterNetworkPolicyIngressPeer{{Namespaces: from}},
				Protocols: []npav1beta1.ClusterNetworkPolicyProtocol{{TCP: &npav1beta1.ClusterNetworkPolicyProtocolTCP{
					DestinationPort: &npav1beta1.Port{Range: &npav1beta1.PortRange{Start: 80, End: 90}}}}},
			}},
		},
	}
}

func TestEvaluateClusterNetworkPolicies(t *testing.T) {
	allowAll := netpol("x", "allow-all", networkingv1.NetworkPolicySpec{PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{}}})
	for _, tc := range []struct {
		name    string
		cluster []*npav1beta1.ClusterNetworkPolicy
		np      []*networkingv1.NetworkPolicy
		conn    Conn
		want    Outcome
		by      []string
	}{
		{name: "admin deny overrides a namespace allow",
			cluster: []*npav1beta1.ClusterNetworkPolicy{cnp("deny-y", npav1beta1.AdminTier, 10, npav1beta1.ClusterNetworkPolicyRuleActionDeny, sel("name", "y"))},
			np:      []*networkingv1.NetworkPolicy{allowAll},
			conn:    in(clientY, "10.1.0.2", 80, record.ProtoTCP), want: Denied, by: []string{"/deny-y"}},
		{name: "admin rule outside its ports leaves the namespace's allow",
			cluster: []*npav1beta1.ClusterNetworkPolicy{cnp("deny-y", npav1beta1.AdminTier, 10, npav1beta1.ClusterNetworkPolicyRuleActionDeny, sel("name", "y"))},
			np:      []*networkingv1.NetworkPolicy{allowAll},
			conn:    in(clientY, "10.1.0.2", 91, record.ProtoTCP), want: Allowed, by: []string{"x/allow-all"}},
		{name: "the lower priority number wins",
			cluster: []*npav1beta1.ClusterNetworkPolicy{
				cnp("deny-y", npav1beta1.AdminTier, 20, npav1beta1.ClusterNetworkPolicyRuleActionDeny, sel("name", "y")),
				cnp("accept-y", npav1beta1.AdminTier, 10, npav1beta1.ClusterNetworkPolicyRuleActionAccept, sel("name", "y")),
			},
			conn: in(clientY, "10.1.0.2", 80, record.ProtoTCP), want: Allowed, by: []string{"/accept-y"}},
		{name: "pass hands over to the namespace's policies",
			cluster: []*npav1beta1.ClusterNetworkPolicy{
				cnp("pass-y", npav1beta1.AdminTier, 10, npav1beta1.ClusterNetworkPolicyRuleActionPass, sel("name", "y")),
				cnp("deny-y", npav1beta1.AdminTier, 20, npav1beta1.ClusterNetworkPolicyRuleActionDeny, sel("name", "y")),
			},
			np:   []*networkingv1.NetworkPolicy{allowAll},
			conn: in(clientY, "10.1.0.2", 80, record.ProtoTCP), want: Allowed, by: []string{"x/allow-all"}},
		{name: "baseline decides where no NetworkPolicy isolates",
			cluster: []*npav1beta1.ClusterNetworkPolicy{cnp("baseline-deny", npav1beta1.BaselineTier, 10, npav1beta1.ClusterNetworkPolicyRuleActionDeny, sel())},
			conn:    in(clientY, "10.1.0.2", 80, record.ProtoTCP), want: Denied, by: []string{"/baseline-deny"}},
		{name: "a NetworkPolicy overrides the baseline",
			cluster: []*npav1beta1.ClusterNetworkPolicy{cnp("baseline-deny", npav1beta1.BaselineTier, 10, npav1beta1.ClusterNetworkPolicyRuleActionDeny, sel())},
			np:      []*networkingv1.NetworkPolicy{allowAll},
			conn:    in(clientY, "10.1.0.2", 80, record.ProtoTCP), want: Allowed, by: []string{"x/allow-all"}},
		{name: "a subject outside the selected namespaces",
			cluster: []*npav1beta1.ClusterNetworkPolicy{cnp("deny-y", npav1beta1.AdminTier, 10, npav1beta1.ClusterNetworkPolicyRuleActionDeny, sel("name", "y"))},
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
	_, err := CompileClusterNetworkPolicy(cnp("p", npav1beta1.BaselineTier, 1, npav1beta1.ClusterNetworkPolicyRuleActionPass, sel()))
	if err == nil {
		t.Fatal("a Baseline Pass compiled")
	}
}
