package policy

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// FuzzEvaluate compiles a policy from fuzzed fields and evaluates fuzzed
// connections against it: compiling never panics (a bad field is an
// error), a decision names policies exactly when it isolates, and the one
// rule's ipBlock and port decide as their definitions say.
func FuzzEvaluate(f *testing.F) {
	f.Add("198.51.100.0/24", "198.51.100.128/25", "TCP", int32(80), int32(90), "", "app", "client", []byte{198, 51, 100, 7}, uint16(85), uint8(6), true)
	f.Add("2001:db8::/32", "2001:db8:1::/48", "UDP", int32(53), int32(0), "", "k", "v", []byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint16(53), uint8(17), false)
	f.Add("10.0.0.0/8", "", "SCTP", int32(0), int32(0), "http", "a", "b", []byte{10, 1, 2, 3}, uint16(80), uint8(132), true)
	f.Add("not a cidr", "x", "ICMP", int32(70000), int32(-1), "", "", "", []byte{}, uint16(0), uint8(1), false)
	f.Fuzz(func(t *testing.T, cidr, except, proto string, port, endPort int32, name, key, value string, addr []byte, dport uint16, ipProto uint8, egress bool) {
		p := corev1.Protocol(proto)
		np := networkingv1.NetworkPolicyPort{Protocol: &p}
		switch {
		case name != "":
			n := intstr.FromString(name)
			np.Port = &n
		case port != 0:
			n := intstr.FromInt32(port)
			np.Port = &n
			if endPort != 0 {
				np.EndPort = &endPort
			}
		}
		block := &networkingv1.IPBlock{CIDR: cidr}
		if except != "" {
			block.Except = []string{except}
		}
		peers := []networkingv1.NetworkPolicyPeer{{IPBlock: block}, {PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: value}}}}
		spec := networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}}
		if egress {
			spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: peers, Ports: []networkingv1.NetworkPolicyPort{np}}}
		} else {
			spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: peers, Ports: []networkingv1.NetworkPolicyPort{np}}}
		}
		pol, err := CompileNetworkPolicy(netpol("x", "fuzz", spec))
		if err != nil {
			return
		}
		a, ok := netip.AddrFromSlice(addr)
		if !ok {
			return
		}
		a = a.Unmap()
		dir := Ingress
		if egress {
			dir = Egress
		}
		local := &Pod{Namespace: "x", Labels: map[string]string{}, Ports: []NamedPort{{Name: name, Port: dport, Proto: ipProto}}}
		c := &Conn{Dir: dir, Local: local, PeerAddr: a, Port: dport, Proto: ipProto}
		r := NewSnapshot([]*Policy{pol}, nil, 1).Evaluate(c)
		if r.Outcome == NotIsolated || len(r.Policies) != 1 {
			t.Fatalf("a policy selecting every pod in both directions: outcome %d, %d policies", r.Outcome, len(r.Policies))
		}
		// The reference: the address is in the block and not in its
		// exception, and the port matches.
		in := pol.rules[dir][0].peers[0].nets[0].Contains(a)
		for _, e := range pol.rules[dir][0].peers[0].except {
			in = in && !e.Contains(a)
		}
		pt := pol.rules[dir][0].ports[0]
		portOK := pt.proto == ipProto
		switch {
		case pt.name != "":
			// Ingress resolves on the local pod (which has it); egress
			// on the peer, an address outside the pods.
			portOK = portOK && !egress && dport != 0
		case pt.port != 0:
			portOK = portOK && dport >= pt.port && dport <= pt.end
		}
		if want := in && portOK; (r.Outcome == Allowed) != want {
			t.Fatalf("%v port %d proto %d: outcome %d, want allowed=%v (rule %+v)", a, dport, ipProto, r.Outcome, want, pol.rules[dir][0])
		}
	})
}
