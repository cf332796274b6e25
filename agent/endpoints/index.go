package endpoints

import (
	"fmt"
	"net/netip"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/agent/intern"
)

// Service is a Kubernetes Service and the frontends (cluster IPs, node
// ports, load-balancer addresses with their ports) that name it.
type Service struct {
	Namespace, Name string
	Frontends       []Frontend
}

// Frontend is an address and port a Service answers on. Port 0 matches
// every port of the address.
type Frontend struct {
	Addr netip.Addr
	Port uint16
	// Proto is the IANA protocol number (record.ProtoTCP, …); 0 matches
	// every protocol.
	Proto uint8
}

// Index maps addresses to interned endpoints and service frontends to
// interned services. It is immutable once built, so readers need no lock.
type Index struct {
	// One map for pods and services, so a record's two addresses cost two
	// lookups whatever they turn out to be.
	addrs map[netip.Addr]addrEntry
	// Pods and Services count what the index was built from, for metrics.
	Pods, Services int
}

// Empty is an index that knows nothing.
var Empty = &Index{}

// IdentityRemoteNode is Cilium's reserved identity of the cluster's other
// nodes.
const IdentityRemoteNode = 6

// BuildOption adds to what Build indexes.
type BuildOption func(*buildOptions)

type buildOptions struct{ remoteNodes []netip.Addr }

// RemoteNodes labels addrs, the addresses of the cluster's other nodes,
// reserved:remote-node where no pod has them (host-network pods share
// them). The local node's addresses are the reserved enricher's host.
func RemoteNodes(addrs []netip.Addr) BuildOption {
	return func(o *buildOptions) { o.remoteNodes = addrs }
}

// Build interns pods and services in tables and indexes them. Two pods
// claiming one address is an error naming both: attributing the address
// to either would mislabel the other's flows.
func Build(tables *intern.Tables, pods []Pod, services []Service, opts ...BuildOption) (*Index, error) {
	var o buildOptions
	for _, opt := range opts {
		opt(&o)
	}
	ix := &Index{
		addrs:    make(map[netip.Addr]addrEntry, len(pods)+len(services)),
		Pods:     len(pods),
		Services: len(services),
	}
	owner := make(map[netip.Addr]string, len(pods))
	for i := range pods {
		p := &pods[i]
		labels := p.IdentityLabels()
		ref := tables.Endpoints.Intern(p.key(labels), p.Endpoint)
		for _, a := range p.IPs {
			a = a.Unmap()
			if prev, dup := owner[a]; dup {
				return nil, fmt.Errorf("index pods: address %s belongs to both %s and %s/%s", a, prev, p.Namespace, p.Name)
			}
			owner[a] = p.Namespace + "/" + p.Name
			e := ix.addrs[a]
			e.pod = ref
			ix.addrs[a] = e
		}
	}
	if len(o.remoteNodes) > 0 {
		// Keyed as agent/enrich keys the other reserved endpoints.
		ref := tables.Endpoints.Intern("reserved:remote-node", func() *flowpb.Endpoint {
			return &flowpb.Endpoint{Identity: IdentityRemoteNode, Labels: []string{"reserved:remote-node"}}
		})
		for _, a := range o.remoteNodes {
			a = a.Unmap()
			if e := ix.addrs[a]; e.pod == 0 {
				e.pod = ref
				ix.addrs[a] = e
			}
		}
	}
	for i := range services {
		s := &services[i]
		ref := tables.Services.Intern(s.Namespace+"/"+s.Name, func() *flowpb.Service {
			return &flowpb.Service{Namespace: s.Namespace, Name: s.Name}
		})
		for _, f := range s.Frontends {
			a := f.Addr.Unmap()
			e := ix.addrs[a]
			e.frontends = append(e.frontends, frontend{port: f.Port, proto: f.Proto, service: ref})
			ix.addrs[a] = e
		}
	}
	return ix, nil
}

type addrEntry struct {
	pod       intern.Ref
	frontends []frontend
}

type frontend struct {
	port    uint16
	proto   uint8
	service intern.Ref
}

// Endpoint returns the endpoint of the pod that has address a, or zero.
func (ix *Index) Endpoint(a netip.Addr) intern.Ref { return ix.addrs[a].pod }

// Lookup returns the endpoint of the pod that has address a and the
// service that answers on a, port and proto (zero for none), in one map
// lookup. An exact frontend wins over one for any protocol, which wins
// over one for any port.
func (ix *Index) Lookup(a netip.Addr, port uint16, proto uint8) (endpoint, service intern.Ref) {
	e, ok := ix.addrs[a]
	if !ok {
		return 0, 0
	}
	best := 0
	for _, f := range e.frontends {
		rank := 0
		switch {
		case f.port == port && f.proto == proto:
			rank = 3
		case f.port == port && f.proto == 0:
			rank = 2
		case f.port == 0 && (f.proto == proto || f.proto == 0):
			rank = 1
		}
		if rank > best {
			best, service = rank, f.service
		}
	}
	return e.pod, service
}
