package endpoints

import (
	"fmt"
	"net/netip"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/intern"
)

// Service is a Kubernetes Service, the frontends (cluster IPs, node ports,
// load-balancer addresses with their ports) that name it and the backends
// (its EndpointSlices' ready addresses and ports) it forwards to.
type Service struct {
	Namespace, Name string
	Frontends       []Frontend
	Backends        []Backend
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

// Backend is an address and port a Service forwards to, matched as a
// Frontend is. After kube-proxy or a load balancer has translated a
// connection, the backend address is all the kernel shows at the server's
// interface, so it is how a flow there is attributed to the service.
type Backend Frontend

// Index maps addresses to interned endpoints and service frontends and
// backends to interned services. It is immutable once built, so readers
// need no lock.
type Index struct {
	// One map for pods and services, so a record's two addresses cost two
	// lookups whatever they turn out to be.
	addrs map[netip.Addr]addrEntry
	// local are the pods of the node KeepLocalPods names.
	local []LocalPod
	// observed are the pods Retina's annotation selects.
	observed map[podName]struct{}
	// Pods and Services count what the index was built from, for metrics.
	Pods, Services int
}

// podName is a pod's namespace and name; a struct, so that a lookup
// builds no string.
type podName struct{ namespace, name string }

// Empty is an index that knows nothing.
var Empty = &Index{}

// BuildOption adds to what Build indexes.
type BuildOption func(*buildOptions)

type buildOptions struct {
	localNode, remoteNodes, kubeAPIServer []netip.Addr
	// keepNode names the node whose pods the index keeps; keep says
	// whether any are kept.
	keepNode string
	keep     bool
}

// LocalPod is a pod of the agent's node and its interned endpoint.
type LocalPod struct {
	Pod
	Endpoint intern.Ref
}

// KeepLocalPods makes the index keep the pods of node, and those whose node
// is not known, for LocalPods: what packet captures select from. Only one
// node's pods are kept, so the index holds no more than that node's pod
// limit beside its addresses.
func KeepLocalPods(node string) BuildOption {
	return func(o *buildOptions) { o.keepNode, o.keep = node, true }
}

// RemoteNodes labels addrs, the addresses of the cluster's other nodes,
// reserved:remote-node where no pod has them (host-network pods share
// them). The local node's addresses are the reserved enricher's host.
func RemoteNodes(addrs []netip.Addr) BuildOption {
	return func(o *buildOptions) { o.remoteNodes = addrs }
}

// LocalNode names the local node's addresses, so that a kube-apiserver
// among them is labelled the host (see KubeAPIServer).
func LocalNode(addrs []netip.Addr) BuildOption {
	return func(o *buildOptions) { o.localNode = addrs }
}

// KubeAPIServer labels addrs, the kube-apiserver's addresses (the
// default/kubernetes service's backends and cluster IPs),
// reserved:kube-apiserver where no pod has them, merged with what else
// the address is as Cilium merges them: the host on the local node
// (identity 1), reserved:remote-node on another node (identity 7), and
// reserved:world elsewhere (identity 7).
func KubeAPIServer(addrs []netip.Addr) BuildOption {
	return func(o *buildOptions) { o.kubeAPIServer = addrs }
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
		if p.Observed {
			if ix.observed == nil {
				ix.observed = map[podName]struct{}{}
			}
			ix.observed[podName{p.Namespace, p.Name}] = struct{}{}
		}
		labels := p.IdentityLabels()
		ref := tables.Endpoints.Intern(p.key(labels), p.Endpoint)
		if o.keep && (p.Node == o.keepNode || p.Node == "") {
			ix.local = append(ix.local, LocalPod{Pod: *p, Endpoint: ref})
		}
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
	ix.reserve(o, tables)
	for i := range services {
		s := &services[i]
		ref := tables.Services.Intern(s.Namespace+"/"+s.Name, func() *flowpb.Service {
			return &flowpb.Service{Namespace: s.Namespace, Name: s.Name}
		})
		for _, f := range s.Frontends {
			ix.addService(f.Addr, servicePort{port: f.Port, proto: f.Proto, service: ref})
		}
		for _, b := range s.Backends {
			ix.addService(b.Addr, servicePort{port: b.Port, proto: b.Proto, backend: true, service: ref})
		}
	}
	return ix, nil
}

// reserve labels the kube-apiserver and node addresses no pod has.
func (ix *Index) reserve(o buildOptions, tables *intern.Tables) {
	set := func(a netip.Addr, ref intern.Ref) {
		if e := ix.addrs[a]; e.pod == 0 {
			e.pod = ref
			ix.addrs[a] = e
		}
	}
	local := make(map[netip.Addr]bool, len(o.localNode))
	for _, a := range o.localNode {
		local[a.Unmap()] = true
	}
	remote := make(map[netip.Addr]bool, len(o.remoteNodes))
	for _, a := range o.remoteNodes {
		remote[a.Unmap()] = true
	}
	// The kube-apiserver first: it claims its node's address for the
	// merged endpoint.
	for _, a := range o.kubeAPIServer {
		a = a.Unmap()
		set(a, kubeAPIServer(tables, local[a], remote[a]))
	}
	if len(remote) > 0 {
		ref := InternReserved(tables, IdentityRemoteNode, LabelRemoteNode)
		for a := range remote {
			set(a, ref)
		}
	}
}

func (ix *Index) addService(a netip.Addr, p servicePort) {
	a = a.Unmap()
	e := ix.addrs[a]
	e.services = append(e.services, p)
	ix.addrs[a] = e
}

type addrEntry struct {
	pod intern.Ref
	// services are the frontends and backends on the address, in one
	// slice to keep map entries small.
	services []servicePort
}

// servicePort is a service's frontend or backend on an address.
type servicePort struct {
	port    uint16
	proto   uint8
	backend bool
	service intern.Ref
}

// LocalPods returns the pods KeepLocalPods kept, in the order Build got
// them. The slice is shared: callers must not change it.
func (ix *Index) LocalPods() []LocalPod { return ix.local }

// Observed reports whether the pod namespace/name carries Retina's
// ObserveAnnotation, itself or through its namespace.
func (ix *Index) Observed(namespace, name string) bool {
	_, ok := ix.observed[podName{namespace, name}]
	return ok
}

// Endpoint returns the endpoint of the pod that has address a, or zero.
func (ix *Index) Endpoint(a netip.Addr) intern.Ref { return ix.addrs[a].pod }

// Lookup returns the endpoint of the pod that has address a and the
// service that answers on or forwards to a, port and proto (zero for
// none), in one map lookup. A frontend wins over a backend, since a
// cluster IP or node port names its service for sure while a pod's
// address is also reached directly; among either, an exact match wins
// over one for any protocol, which wins over one for any port.
func (ix *Index) Lookup(a netip.Addr, port uint16, proto uint8) (endpoint, service intern.Ref) {
	e, ok := ix.addrs[a]
	if !ok {
		return 0, 0
	}
	best := 0
	for _, f := range e.services {
		rank := 0
		switch {
		case f.port == port && f.proto == proto:
			rank = 3
		case f.port == port && f.proto == 0:
			rank = 2
		case f.port == 0 && (f.proto == proto || f.proto == 0):
			rank = 1
		}
		if rank > 0 && !f.backend {
			rank += 3
		}
		if rank > best {
			best, service = rank, f.service
		}
	}
	return e.pod, service
}
