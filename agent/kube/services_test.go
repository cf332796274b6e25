package kube

import (
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/model/record"
)

// TestFrontends checks the addresses a service answers on: external IPs
// count as Cilium counts them, and a single-stack service's node port is
// open on the node addresses of its family only.
func TestFrontends(t *testing.T) {
	nodes := []netip.Addr{netip.MustParseAddr("172.30.0.1"), netip.MustParseAddr("fd00::1")}
	port := []corev1.ServicePort{{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP}}
	fe := func(addrPort string) endpoints.Frontend {
		ap := netip.MustParseAddrPort(addrPort)
		return endpoints.Frontend{Addr: ap.Addr(), Port: ap.Port(), Proto: record.ProtoTCP}
	}
	for _, c := range []struct {
		name string
		spec corev1.ServiceSpec
		want []endpoints.Frontend
	}{
		{"IPv4 only", corev1.ServiceSpec{ClusterIPs: []string{"10.96.0.10"}, IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, Ports: port},
			[]endpoints.Frontend{fe("10.96.0.10:80"), fe("172.30.0.1:30080")}},
		{"dual stack", corev1.ServiceSpec{ClusterIPs: []string{"10.96.0.10", "fd96::10"},
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}, Ports: port},
			[]endpoints.Frontend{fe("10.96.0.10:80"), fe("[fd96::10]:80"), fe("172.30.0.1:30080"), fe("[fd00::1]:30080")}},
		{"no families named", corev1.ServiceSpec{ClusterIPs: []string{"10.96.0.10"}, Ports: port},
			[]endpoints.Frontend{fe("10.96.0.10:80"), fe("172.30.0.1:30080"), fe("[fd00::1]:30080")}},
		{"external IPs", corev1.ServiceSpec{ExternalIPs: []string{"203.0.113.7", "not an IP"}, Ports: []corev1.ServicePort{{Port: 443}}},
			[]endpoints.Frontend{fe("203.0.113.7:443")}},
	} {
		got := frontends(&corev1.Service{Spec: c.spec}, nodes)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: frontends = %v, want %v", c.name, got, c.want)
		}
	}
}
