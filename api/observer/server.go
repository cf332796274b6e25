package observer

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	relaypb "github.com/cilium/cilium/api/v1/relay"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/model/flowview"
)

// NamespaceSource lists the namespaces recently seen in flows, sorted by
// cluster then name.
type NamespaceSource interface {
	Namespaces() []*observerpb.Namespace
}

// Server implements observerpb.ObserverServer for one agent.
type Server struct {
	observerpb.UnimplementedObserverServer

	ring        Ring
	node        *flowview.Node
	nodeName    string
	log         *slog.Logger
	version     string
	now         func() time.Time
	start       time.Time
	seenFlows   func() uint64
	buildFilter FilterBuilder
	namespaces  NamespaceSource
	agentEvents AgentEventSource

	address       string
	tlsServerName string
	lostInterval  time.Duration

	// streamLost counts records streams skipped because the ring overwrote
	// them first; clients see the same counts as LostEvents.
	streamLost    atomic.Uint64
	streamLostMet prometheus.Collector
}

var _ observerpb.ObserverServer = (*Server)(nil)

// New returns a Server serving the records of ring, observed on node.
func New(ring Ring, node *flowview.Node, opts ...Option) (*Server, error) {
	if ring == nil {
		return nil, errors.New("create observer: ring is nil")
	}
	if node == nil || node.Name == "" || node.Tables == nil {
		return nil, errors.New("create observer: node needs a name and intern tables")
	}
	s := &Server{
		ring:         ring,
		node:         node,
		nodeName:     node.AbsoluteName(),
		log:          slog.New(slog.DiscardHandler),
		version:      node.Version,
		now:          time.Now,
		seenFlows:    func() uint64 { return 0 },
		buildFilter:  defaultFilterBuilder,
		lostInterval: time.Second,
	}
	for _, opt := range opts {
		opt(s)
	}
	if s.start.IsZero() {
		s.start = s.now()
	}
	if s.lostInterval <= 0 {
		return nil, errors.New("create observer: lost event interval must be positive")
	}
	s.streamLostMet = prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "observer_stream_lost_events_total",
		Help: "Events GetFlows streams skipped because the ring overwrote them before they were read (sent to clients as HUBBLE_RING_BUFFER LostEvents).",
	}, func() float64 { return float64(s.streamLost.Load()) })
	return s, nil
}

// Collector returns the server's metrics.
func (s *Server) Collector() prometheus.Collector { return s.streamLostMet }

// StreamLostEvents returns how many records GetFlows streams skipped
// because the ring overwrote them first: Hubble's hubble_ring_buffer losses.
func (s *Server) StreamLostEvents() uint64 { return s.streamLost.Load() }

// ServerStatus reports the agent's ring usage, flow counts and flow rate.
func (s *Server) ServerStatus(context.Context, *observerpb.ServerStatusRequest) (*observerpb.ServerStatusResponse, error) {
	now := s.now()
	return &observerpb.ServerStatusResponse{
		NumFlows:  s.ring.Len(),
		MaxFlows:  s.ring.Cap(),
		SeenFlows: s.seenFlows(),
		UptimeNs:  s.uptime(now),
		Version:   s.version,
		FlowsRate: flowRate(s.ring, now),
	}, nil
}

// GetNodes reports this agent as the only node.
func (s *Server) GetNodes(context.Context, *observerpb.GetNodesRequest) (*observerpb.GetNodesResponse, error) {
	now := s.now()
	return &observerpb.GetNodesResponse{Nodes: []*observerpb.Node{{
		Name:      s.nodeName,
		Version:   s.version,
		Address:   s.address,
		State:     relaypb.NodeState_NODE_CONNECTED,
		Tls:       &observerpb.TLS{Enabled: s.tlsServerName != "", ServerName: s.tlsServerName},
		UptimeNs:  s.uptime(now),
		NumFlows:  s.ring.Len(),
		MaxFlows:  s.ring.Cap(),
		SeenFlows: s.seenFlows(),
	}}}, nil
}

// GetNamespaces lists the namespaces seen in flows during the last hour.
func (s *Server) GetNamespaces(context.Context, *observerpb.GetNamespacesRequest) (*observerpb.GetNamespacesResponse, error) {
	if s.namespaces == nil {
		return &observerpb.GetNamespacesResponse{}, nil
	}
	return &observerpb.GetNamespacesResponse{Namespaces: s.namespaces.Namespaces()}, nil
}

func (s *Server) uptime(now time.Time) uint64 {
	return uint64(max(now.Sub(s.start), 0))
}
