package kube

import (
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/model/record"
)

// The service whose backends are the kube-apiserver, as Cilium finds it
// (pkg/ipcache/cell/apiserver_watcher.go).
const apiserverNamespace, apiserverService = "default", "kubernetes"

// serviceList reads the services with their frontends (cluster IPs and
// load-balancer addresses on their ports, every node address on their
// node ports) and backends (their EndpointSlices' serving addresses and
// ports), and the kube-apiserver's addresses: the backends and cluster
// IPs of default/kubernetes. The cluster IPs are included because without
// socket-level load balancing a client pod's interface shows the address
// before translation; Cilium's ipcache labels only the backends.
func (l *listers) serviceList(nodeAddrs []netip.Addr) ([]endpoints.Service, []netip.Addr, error) {
	services, err := l.services.List(labels.Everything())
	if err != nil {
		return nil, nil, fmt.Errorf("list services: %w", err)
	}
	backends, err := l.backends()
	if err != nil {
		return nil, nil, err
	}
	var apiserver []netip.Addr
	out := make([]endpoints.Service, 0, len(services))
	for _, s := range services {
		svc := endpoints.Service{Namespace: s.Namespace, Name: s.Name, Frontends: frontends(s, nodeAddrs),
			Backends: backends[s.Namespace+"/"+s.Name]}
		if s.Namespace == apiserverNamespace && s.Name == apiserverService {
			apiserver = append(apiserver, clusterIPs(s)...)
			for _, b := range svc.Backends {
				apiserver = append(apiserver, b.Addr)
			}
		}
		if len(svc.Frontends) > 0 || len(svc.Backends) > 0 {
			out = append(out, svc)
		}
	}
	return out, apiserver, nil
}

// frontends are the addresses and ports s answers on: its cluster IPs,
// external IPs and load-balancer addresses on its ports, and every node
// address of the service's IP families on its node ports.
func frontends(s *corev1.Service, nodeAddrs []netip.Addr) []endpoints.Frontend {
	frontAddrs := clusterIPs(s)
	for _, ip := range s.Spec.ExternalIPs {
		if a, err := netip.ParseAddr(ip); err == nil {
			frontAddrs = append(frontAddrs, a.Unmap())
		}
	}
	for _, ing := range s.Status.LoadBalancer.Ingress {
		if a, err := netip.ParseAddr(ing.IP); err == nil {
			frontAddrs = append(frontAddrs, a.Unmap())
		}
	}
	var out []endpoints.Frontend
	for _, p := range s.Spec.Ports {
		proto := protocolNumber(p.Protocol)
		for _, a := range frontAddrs {
			out = append(out, endpoints.Frontend{Addr: a, Port: uint16(p.Port), Proto: proto})
		}
		if p.NodePort == 0 {
			continue
		}
		for _, a := range nodeAddrs {
			// A single-stack service's node port is not open on the
			// node's addresses of the other family.
			if servesFamily(s, a) {
				out = append(out, endpoints.Frontend{Addr: a, Port: uint16(p.NodePort), Proto: proto})
			}
		}
	}
	return out
}

// servesFamily reports whether s serves a's IP family; a service that
// names no families (as before dual stack) serves both.
func servesFamily(s *corev1.Service, a netip.Addr) bool {
	if len(s.Spec.IPFamilies) == 0 {
		return true
	}
	want := corev1.IPv4Protocol
	if a.Is6() {
		want = corev1.IPv6Protocol
	}
	return slices.Contains(s.Spec.IPFamilies, want)
}

func clusterIPs(s *corev1.Service) []netip.Addr {
	var out []netip.Addr
	for _, ip := range s.Spec.ClusterIPs {
		if a, err := netip.ParseAddr(ip); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// backends reads the EndpointSlices into each service's ("namespace/name")
// backends: every serving address on every port of the slice. A port
// without a number is every port (as EndpointSlice defines it); a slice
// without ports has no backends to match a flow's port against.
func (l *listers) backends() (map[string][]endpoints.Backend, error) {
	all, err := l.slices.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list EndpointSlices: %w", err)
	}
	out := map[string][]endpoints.Backend{}
	for _, s := range all {
		name := s.Labels[discoveryv1.LabelServiceName]
		if name == "" || s.AddressType == discoveryv1.AddressTypeFQDN {
			continue
		}
		key := s.Namespace + "/" + name
		for _, e := range s.Endpoints {
			if !serving(e.Conditions) {
				continue
			}
			for _, addr := range e.Addresses {
				a, err := netip.ParseAddr(addr)
				if err != nil {
					continue
				}
				for _, p := range s.Ports {
					b := endpoints.Backend{Addr: a.Unmap(), Proto: record.ProtoTCP}
					if p.Port != nil {
						b.Port = uint16(*p.Port)
					}
					if p.Protocol != nil {
						b.Proto = protocolNumber(*p.Protocol)
					}
					out[key] = append(out[key], b)
				}
			}
		}
	}
	return out, nil
}

func protocolNumber(p corev1.Protocol) uint8 {
	switch p {
	case corev1.ProtocolUDP:
		return record.ProtoUDP
	case corev1.ProtocolSCTP:
		return record.ProtoSCTP
	}
	return record.ProtoTCP // Kubernetes' default
}
