package relay

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	relaypb "github.com/cilium/cilium/api/v1/relay"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// maxUnavailableNames caps the unavailable nodes ServerStatus names, as in
// Hubble.
const maxUnavailableNames = 10

// nodeCallTimeout bounds a unary call to one node, so that one slow node
// cannot hold up an aggregated answer.
const nodeCallTimeout = 5 * time.Second

// Observer implements observerpb.ObserverServer over a pool of agents.
type Observer struct {
	observerpb.UnimplementedObserverServer

	pool     nodeLister
	log      *slog.Logger
	version  string
	nodeName string
	merge    MergeConfig
	metrics  *Metrics
}

// ObserverOption configures an Observer.
type ObserverOption func(*Observer)

// WithVersion sets the version ServerStatus reports.
func WithVersion(v string) ObserverOption { return func(o *Observer) { o.version = v } }

// WithMetrics sets the metrics GetFlows streams update (default: metrics
// registered nowhere).
func WithMetrics(m *Metrics) ObserverOption { return func(o *Observer) { o.metrics = m } }

// WithNodeName sets the node_name of the relay's node_status events.
func WithNodeName(name string) ObserverOption { return func(o *Observer) { o.nodeName = name } }

var _ observerpb.ObserverServer = (*Observer)(nil)

// NewObserver returns an Observer serving the nodes of pool.
func NewObserver(pool *Pool, merge MergeConfig, log *slog.Logger, opts ...ObserverOption) (*Observer, error) {
	if err := merge.Validate(); err != nil {
		return nil, err
	}
	o := &Observer{pool: pool, log: log, merge: merge}
	for _, opt := range opts {
		opt(o)
	}
	if o.metrics == nil {
		o.metrics = new(Metrics)
	}
	return o, nil
}

// eachNode calls fn on every available node concurrently, each under its
// own timeout, and returns every node with whether it failed: skipped as
// unavailable, or fn reporting that it did not answer.
func (o *Observer) eachNode(ctx context.Context, fn func(context.Context, NodeInfo) bool) (nodes []NodeInfo, failed []bool) {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	nodes = o.pool.Nodes()
	failed = make([]bool, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		if !n.Available {
			failed[i] = true
			continue
		}
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, nodeCallTimeout)
			defer cancel()
			failed[i] = !fn(cctx, n)
		})
	}
	wg.Wait()
	return nodes, failed
}

// ServerStatus sums the nodes' flow counts and rates and reports the longest
// uptime and which nodes did not answer.
func (o *Observer) ServerStatus(ctx context.Context, req *observerpb.ServerStatusRequest) (*observerpb.ServerStatusResponse, error) {
	var mu sync.Mutex
	resp := &observerpb.ServerStatusResponse{Version: o.version}
	nodes, failed := o.eachNode(ctx, func(ctx context.Context, n NodeInfo) bool {
		st, err := n.Client.ServerStatus(ctx, req)
		if err != nil {
			o.log.Warn("cannot get server status", "node", n.Name, "error", err)
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		resp.NumFlows += st.GetNumFlows()
		resp.MaxFlows += st.GetMaxFlows()
		resp.SeenFlows += st.GetSeenFlows()
		resp.FlowsRate += st.GetFlowsRate()
		resp.UptimeNs = max(resp.UptimeNs, st.GetUptimeNs())
		return true
	})
	var connected, unavailable uint32
	for i, n := range nodes {
		if !failed[i] {
			connected++
			continue
		}
		unavailable++
		if len(resp.UnavailableNodes) < maxUnavailableNames {
			resp.UnavailableNodes = append(resp.UnavailableNodes, n.Name)
		}
	}
	resp.NumConnectedNodes = wrapperspb.UInt32(connected)
	resp.NumUnavailableNodes = wrapperspb.UInt32(unavailable)
	return resp, nil
}

// GetNodes lists every peer with its state and, for those answering, its
// version, uptime and flow counts.
func (o *Observer) GetNodes(ctx context.Context, _ *observerpb.GetNodesRequest) (*observerpb.GetNodesResponse, error) {
	var mu sync.Mutex
	statuses := map[string]*observerpb.ServerStatusResponse{}
	nodes, failed := o.eachNode(ctx, func(ctx context.Context, n NodeInfo) bool {
		st, err := n.Client.ServerStatus(ctx, &observerpb.ServerStatusRequest{})
		if err != nil {
			o.log.Warn("cannot get server status", "node", n.Name, "error", err)
			return false
		}
		mu.Lock()
		statuses[n.Name] = st
		mu.Unlock()
		return true
	})
	out := make([]*observerpb.Node, len(nodes))
	for i, n := range nodes {
		pn := &observerpb.Node{
			Name:    n.Name,
			Address: n.Address,
			State:   n.State,
			Tls:     &observerpb.TLS{Enabled: n.TLS, ServerName: n.TLSServerName},
		}
		if st, ok := statuses[n.Name]; ok {
			pn.State = relaypb.NodeState_NODE_CONNECTED
			pn.Version, pn.UptimeNs = st.GetVersion(), st.GetUptimeNs()
			pn.NumFlows, pn.MaxFlows, pn.SeenFlows = st.GetNumFlows(), st.GetMaxFlows(), st.GetSeenFlows()
		} else if failed[i] && n.Available {
			pn.State = relaypb.NodeState_NODE_ERROR
		}
		out[i] = pn
	}
	return &observerpb.GetNodesResponse{Nodes: out}, nil
}

// GetNamespaces returns the union of the nodes' namespaces, sorted by
// cluster then name.
func (o *Observer) GetNamespaces(ctx context.Context, req *observerpb.GetNamespacesRequest) (*observerpb.GetNamespacesResponse, error) {
	var mu sync.Mutex
	seen := map[[2]string]*observerpb.Namespace{}
	o.eachNode(ctx, func(ctx context.Context, n NodeInfo) bool {
		resp, err := n.Client.GetNamespaces(ctx, req)
		if err != nil {
			o.log.Warn("cannot get namespaces", "node", n.Name, "error", err)
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		for _, ns := range resp.GetNamespaces() {
			seen[[2]string{ns.GetCluster(), ns.GetNamespace()}] = ns
		}
		return true
	})
	out := make([]*observerpb.Namespace, 0, len(seen))
	for _, ns := range seen {
		out = append(out, ns)
	}
	slices.SortFunc(out, func(a, b *observerpb.Namespace) int {
		if c := strings.Compare(a.GetCluster(), b.GetCluster()); c != 0 {
			return c
		}
		return strings.Compare(a.GetNamespace(), b.GetNamespace())
	})
	return &observerpb.GetNamespacesResponse{Namespaces: out}, nil
}
