package policy

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/foveanet/fovea/model/record"
)

// The cases follow the facts of upstream's NetworkPolicy conformance and
// e2e suites (test/e2e/network/netpol): default deny, pod and namespace
// selectors and their intersection, ipBlock with except, numbered, ranged
// and named ports, protocols, policy types and the union of policies.

func sel(kv ...string) *metav1.LabelSelector {
	s := &metav1.LabelSelector{MatchLabels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.MatchLabels[kv[i]] = kv[i+1]
	}
	return s
}

func tcpPort(n int32) networkingv1.NetworkPolicyPort {
	p := intstr.FromInt32(n)
	return networkingv1.NetworkPolicyPort{Port: &p}
}

func protoPort(proto corev1.Protocol, n int32) networkingv1.NetworkPolicyPort {
	p := intstr.FromInt32(n)
	return networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &p}
}

func rangePort(n, end int32) networkingv1.NetworkPolicyPort {
	p := tcpPort(n)
	p.EndPort = &end
	return p
}

func namedPort(name string) networkingv1.NetworkPolicyPort {
	p := intstr.FromString(name)
	return networkingv1.NetworkPolicyPort{Port: &p}
}

func netpol(ns, name string, spec networkingv1.NetworkPolicySpec) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1}, Spec: spec}
}

var (
	ingressOnly = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	egressOnly  = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
)

// The pods of the cases: namespaces x (name=x) and y (name=y, team=b), and
// z unlabelled.
var (
	serverX = &Pod{Namespace: "x", Name: "server", Labels: map[string]string{"app": "server"},
		NamespaceLabels: map[string]string{"name": "x"}, Local: true,
		Ports: []NamedPort{{Name: "http", Port: 80, Proto: record.ProtoTCP}, {Name: "dns", Port: 53, Proto: record.ProtoUDP}}}
	clientX = &Pod{Namespace: "x", Name: "client", Labels: map[string]string{"app": "client"}, NamespaceLabels: map[string]string{"name": "x"}}
	otherX  = &Pod{Namespace: "x", Name: "other", Labels: map[string]string{"app": "other"}, NamespaceLabels: map[string]string{"name": "x"}}
	clientY = &Pod{Namespace: "y", Name: "client", Labels: map[string]string{"app": "client"},
		NamespaceLabels: map[string]string{"name": "y", "team": "b"}}
	clientZ = &Pod{Namespace: "z", Name: "client", Labels: map[string]string{"app": "client"}}
)

type evalCase struct {
	name     string
	policies []*networkingv1.NetworkPolicy
	conn     Conn
	want     Outcome
	// by are the policies named, "namespace/name".
	by    []string
	match uint32
}

func in(peer *Pod, addr string, port uint16, proto uint8) Conn {
	return Conn{Dir: Ingress, Local: serverX, Peer: peer, PeerAddr: netip.MustParseAddr(addr), Port: port, Proto: proto}
}

func out(local, peer *Pod, addr string, port uint16, proto uint8) Conn {
	return Conn{Dir: Egress, Local: local, Peer: peer, PeerAddr: netip.MustParseAddr(addr), Port: port, Proto: proto}
}

func TestEvaluateNetworkPolicies(t *testing.T) {
	denyIngress := netpol("x", "deny-all", networkingv1.NetworkPolicySpec{PolicyTypes: ingressOnly})
	allowClient80 := netpol("x", "allow-client", networkingv1.NetworkPolicySpec{
		PodSelector: *sel("app", "server"), PolicyTypes: ingressOnly,
		Ingress: []networkingv1.NetworkPolicyIngressRule{{
			From:  []networkingv1.NetworkPolicyPeer{{PodSelector: sel("app", "client")}},
			Ports: []networkingv1.NetworkPolicyPort{tcpPort(80)},
		}},
	})
	tcp, udp, sctp := record.ProtoTCP, record.ProtoUDP, record.ProtoSCTP
	cases := []evalCase{
		{name: "no policy: not isolated", conn: in(clientX, "10.0.0.2", 80, tcp), want: NotIsolated},
		{name: "default deny ingress", policies: []*networkingv1.NetworkPolicy{denyIngress},
			conn: in(clientX, "10.0.0.2", 80, tcp), want: Denied, by: []string{"x/deny-all"}},
		{name: "default deny ingress leaves egress open", policies: []*networkingv1.NetworkPolicy{denyIngress},
			conn: out(serverX, clientX, "10.0.0.2", 80, tcp), want: NotIsolated},
		{name: "allow client on 80 over default deny", policies: []*networkingv1.NetworkPolicy{denyIngress, allowClient80},
			conn: in(clientX, "10.0.0.2", 80, tcp), want: Allowed, by: []string{"x/allow-client"}, match: matchL3L4},
		{name: "allow client on 80: other port denied by both isolating policies", policies: []*networkingv1.NetworkPolicy{denyIngress, allowClient80},
			conn: in(clientX, "10.0.0.2", 81, tcp), want: Denied, by: []string{"x/deny-all", "x/allow-client"}},
		{name: "allow client on 80: UDP 80 denied", policies: []*networkingv1.NetworkPolicy{allowClient80},
			conn: in(clientX, "10.0.0.2", 80, udp), want: Denied, by: []string{"x/allow-client"}},
		{name: "allow client: other pod denied", policies: []*networkingv1.NetworkPolicy{allowClient80},
			conn: in(otherX, "10.0.0.3", 80, tcp), want: Denied, by: []string{"x/allow-client"}},
		{name: "pod selector alone stays in the policy's namespace", policies: []*networkingv1.NetworkPolicy{allowClient80},
			conn: in(clientY, "10.1.0.2", 80, tcp), want: Denied, by: []string{"x/allow-client"}},
		{name: "policy selecting other pods does not isolate", policies: []*networkingv1.NetworkPolicy{
			netpol("x", "other", networkingv1.NetworkPolicySpec{PodSelector: *sel("app", "other"), PolicyTypes: ingressOnly})},
			conn: in(clientX, "10.0.0.2", 80, tcp), want: NotIsolated},
		{name: "policy of another namespace does not isolate", policies: []*networkingv1.NetworkPolicy{
			netpol("y", "deny-all", networkingv1.NetworkPolicySpec{PolicyTypes: ingressOnly})},
			conn: in(clientX, "10.0.0.2", 80, tcp), want: NotIsolated},
		{name: "namespace selector", policies: []*networkingv1.NetworkPolicy{netpol("x", "from-team-b", networkingv1.NetworkPolicySpec{
			PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("team", "b")}}}}})},
			conn: in(clientY, "10.1.0.2", 9000, tcp), want: Allowed, by: []string{"x/from-team-b"}, match: matchL3Only},
		{name: "namespace selector excludes the policy's own namespace", policies: []*networkingv1.NetworkPolicy{netpol("x", "from-team-b", networkingv1.NetworkPolicySpec{
			PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("team", "b")}}}}})},
			conn: in(clientX, "10.0.0.2", 9000, tcp), want: Denied, by: []string{"x/from-team-b"}},
		{name: "namespace and pod selector intersect", policies: []*networkingv1.NetworkPolicy{netpol("x", "and", networkingv1.NetworkPolicySpec{
			PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("name", "y"), PodSelector: sel("app", "other")}}}}})},
			conn: in(clientY, "10.1.0.2", 80, tcp), want: Denied, by: []string{"x/and"}},
		{name: "empty namespace selector: every namespace", policies: []*networkingv1.NetworkPolicy{netpol("x", "all-ns", networkingv1.NetworkPolicySpec{
			PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel()}}}}})},
			conn: in(clientZ, "10.2.0.2", 80, tcp), want: Allowed, by: []string{"x/all-ns"}, match: matchL3Only},
		{name: "pod selectors never match an address outside the pods", policies: []*networkingv1.NetworkPolicy{netpol("x", "all-ns", networkingv1.NetworkPolicySpec{
			PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel()}}}}})},
			conn: in(nil, "192.0.2.1", 80, tcp), want: Denied, by: []string{"x/all-ns"}},
		{name: "empty rule allows everything", policies: []*networkingv1.NetworkPolicy{netpol("x", "allow-all", networkingv1.NetworkPolicySpec{
			PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{}}})},
			conn: in(nil, "192.0.2.1", 80, udp), want: Allowed, by: []string{"x/allow-all"}, match: matchAll},
		{name: "ports alone: any peer", policies: []*networkingv1.NetworkPolicy{netpol("x", "port-80", networkingv1.NetworkPolicySpec{
			PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{tcpPort(80)}}}})},
			conn: in(nil, "192.0.2.1", 80, tcp), want: Allowed, by: []string{"x/port-80"}, match: matchL4Only},
		{name: "port range includes its end", policies: []*networkingv1.NetworkPolicy{netpol("x", "range", networkingv1.NetworkPolicySpec{
			PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{rangePort(8000, 8080)}}}})},
			conn: in(clientX, "10.0.0.2", 8080, tcp), want: Allowed, by: []string{"x/range"}, match: matchL4Only},
		{name: "port range excludes the next port", policies: []*networkingv1.NetworkPolicy{netpol("x", "range", networkingv1.NetworkPolicySpec{
			PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{rangePort(8000, 8080)}}}})},
			conn: in(clientX, "10.0.0.2", 8081, tcp), want: Denied, by: []string{"x/range"}},
		{name: "named port resolves on the destination pod", policies: []*networkingv1.NetworkPolicy{netpol("x", "http", networkingv1.NetworkPolicySpec{
			PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{namedPort("http")}}}})},
			conn: in(clientX, "10.0.0.2", 80, tcp), want: Allowed, by: []string{"x/http"}, match: matchL4Only},
		{name: "named port: another number is denied", policies: []*networkingv1.NetworkPolicy{netpol("x", "http", networkingv1.NetworkPolicySpec{
			PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{namedPort("http")}}}})},
			conn: in(clientX, "10.0.0.2", 8080, tcp), want: Denied, by: []string{"x/http"}},
		{name: "named port is per protocol", policies: []*networkingv1.NetworkPolicy{netpol("x", "dns", networkingv1.NetworkPolicySpec{
			PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{namedPort("dns")}}}})},
			conn: in(clientX, "10.0.0.2", 53, tcp), want: Denied, by: []string{"x/dns"}},
		{name: "egress named port resolves on the peer", policies: []*networkingv1.NetworkPolicy{netpol("x", "to-http", networkingv1.NetworkPolicySpec{
			PodSelector: *sel("app", "client"), PolicyTypes: egressOnly,
			Egress: []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{namedPort("http")}}}})},
			conn: out(clientX, serverX, "10.0.0.1", 80, tcp), want: Allowed, by: []string{"x/to-http"}, match: matchL4Only},
		{name: "egress named port to an address outside the pods never matches", policies: []*networkingv1.NetworkPolicy{netpol("x", "to-http", networkingv1.NetworkPolicySpec{
			PodSelector: *sel("app", "client"), PolicyTypes: egressOnly,
			Egress: []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{namedPort("http")}}}})},
			conn: out(clientX, nil, "192.0.2.1", 80, tcp), want: Denied, by: []string{"x/to-http"}},
		{name: "SCTP", policies: []*networkingv1.NetworkPolicy{netpol("x", "sctp", networkingv1.NetworkPolicySpec{
			PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{protoPort(corev1.ProtocolSCTP, 80)}}}})},
			conn: in(clientX, "10.0.0.2", 80, sctp), want: Allowed, by: []string{"x/sctp"}, match: matchL4Only},
		{name: "ICMP needs a rule without ports", policies: []*networkingv1.NetworkPolicy{netpol("x", "port-80", networkingv1.NetworkPolicySpec{
			PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{tcpPort(80)}}}})},
			conn: in(clientX, "10.0.0.2", 0, record.ProtoICMP), want: Denied, by: []string{"x/port-80"}},
	}
	ipBlock := netpol("x", "egress-cidr", networkingv1.NetworkPolicySpec{
		PodSelector: *sel("app", "client"), PolicyTypes: egressOnly,
		Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{
			CIDR: "198.51.100.0/24", Except: []string{"198.51.100.128/25"}}}}}},
	})
	cases = append(cases,
		evalCase{name: "ipBlock", policies: []*networkingv1.NetworkPolicy{ipBlock},
			conn: out(clientX, nil, "198.51.100.7", 443, tcp), want: Allowed, by: []string{"x/egress-cidr"}, match: matchL3Only},
		evalCase{name: "ipBlock except", policies: []*networkingv1.NetworkPolicy{ipBlock},
			conn: out(clientX, nil, "198.51.100.200", 443, tcp), want: Denied, by: []string{"x/egress-cidr"}},
		evalCase{name: "ipBlock outside", policies: []*networkingv1.NetworkPolicy{ipBlock},
			conn: out(clientX, nil, "203.0.113.1", 443, tcp), want: Denied, by: []string{"x/egress-cidr"}},
		evalCase{name: "ipBlock of another family", policies: []*networkingv1.NetworkPolicy{ipBlock},
			conn: out(clientX, nil, "2001:db8::1", 443, tcp), want: Denied, by: []string{"x/egress-cidr"}},
		evalCase{name: "egress isolation leaves ingress open", policies: []*networkingv1.NetworkPolicy{ipBlock},
			conn: Conn{Dir: Ingress, Local: clientX, Peer: nil, PeerAddr: netip.MustParseAddr("203.0.113.1"), Port: 80, Proto: tcp}, want: NotIsolated},
		evalCase{name: "union: the allowing policy is named", policies: []*networkingv1.NetworkPolicy{
			netpol("x", "a", networkingv1.NetworkPolicySpec{PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{tcpPort(81)}}}}),
			netpol("x", "b", networkingv1.NetworkPolicySpec{PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{tcpPort(80)}}}}),
		}, conn: in(clientX, "10.0.0.2", 80, tcp), want: Allowed, by: []string{"x/b"}, match: matchL4Only},
		evalCase{name: "policy types default: egress rules make an egress policy", policies: []*networkingv1.NetworkPolicy{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "x", Name: "implicit"}, Spec: networkingv1.NetworkPolicySpec{
				Egress: []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{tcpPort(53)}}}}},
		}, conn: out(serverX, nil, "192.0.2.1", 443, tcp), want: Denied, by: []string{"x/implicit"}},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := compileAll(t, tc.policies)
			r := snap.Evaluate(&tc.conn)
			if r.Outcome != tc.want {
				t.Fatalf("outcome %d, want %d (policies %v)", r.Outcome, tc.want, names(r.Policies))
			}
			if got := names(r.Policies); !slices.Equal(got, tc.by) {
				t.Errorf("policies %v, want %v", got, tc.by)
			}
			if r.Match != tc.match {
				t.Errorf("match type %d, want %d", r.Match, tc.match)
			}
		})
	}
}

func compileAll(t testing.TB, nps []*networkingv1.NetworkPolicy) *Snapshot {
	t.Helper()
	var ps []*Policy
	for _, np := range nps {
		p, err := CompileNetworkPolicy(np)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return NewSnapshot(ps, nil, 1)
}

func names(ds []Decider) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Policy.ID.Namespace+"/"+d.Policy.ID.Name)
	}
	return out
}

func TestCompileNetworkPolicyNamesTheBadField(t *testing.T) {
	badProto := corev1.Protocol("ICMP")
	for _, tc := range []struct {
		spec networkingv1.NetworkPolicySpec
		want string
	}{
		{networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/33"}}}}}},
			"spec.ingress[0].from[0].ipBlock.cidr"},
		{networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"x"}}}}}}},
			"spec.egress[0].to[0].ipBlock.except[0]"},
		{networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &badProto}}}}},
			"spec.ingress[0].ports[0].protocol"},
		{networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{rangePort(90, 80)}}}},
			"spec.ingress[0].ports[0].endPort"},
		{networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Bogus"}}}},
			"spec.podSelector"},
	} {
		_, err := CompileNetworkPolicy(netpol("x", "bad", tc.spec))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v, want one naming %s", err, tc.want)
		}
	}
}

func TestDecidersNameTheRule(t *testing.T) {
	snap := compileAll(t, []*networkingv1.NetworkPolicy{
		netpol("x", "deny-all", networkingv1.NetworkPolicySpec{PolicyTypes: ingressOnly}),
		netpol("x", "two-rules", networkingv1.NetworkPolicySpec{PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{
			{Ports: []networkingv1.NetworkPolicyPort{tcpPort(81)}}, {Ports: []networkingv1.NetworkPolicyPort{tcpPort(80)}},
		}}),
	})
	allowed := snap.Evaluate(&Conn{Dir: Ingress, Local: serverX, PeerAddr: netip.MustParseAddr("192.0.2.1"), Port: 80, Proto: record.ProtoTCP})
	if len(allowed.Policies) != 1 || !slices.Contains(allowed.Policies[0].ID().Labels, "fovea:policy.rule=spec.ingress[1]") {
		t.Errorf("allowed by %v, want two-rules' spec.ingress[1] named", allowed.Policies)
	}
	denied := snap.Evaluate(&Conn{Dir: Ingress, Local: serverX, PeerAddr: netip.MustParseAddr("192.0.2.1"), Port: 82, Proto: record.ProtoTCP})
	for _, d := range denied.Policies {
		for _, l := range d.ID().Labels {
			if strings.HasPrefix(l, labelRule) {
				t.Errorf("a denial by isolation names rule %q of %s", l, d.Policy.ID.Name)
			}
		}
	}
}
