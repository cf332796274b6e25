package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	relaypb "github.com/cilium/cilium/api/v1/relay"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
)

// Pool keeps one connection to every peer its listers report.
type Pool struct {
	dialer *dialer
	log    *slog.Logger

	mu      sync.Mutex
	ctx     context.Context // Run's, for node watchers
	conns   uint64          // connections made, numbering them
	nodes   map[string]*node
	changed chan struct{} // closed and replaced on every change
}

// node is a peer and its connection; conn is nil when it cannot be dialed,
// and err says why.
type node struct {
	peer   Peer
	id     uint64 // numbers the connection, which a changed peer replaces
	conn   *grpc.ClientConn
	client observerpb.ObserverClient
	err    error
	stop   context.CancelFunc
	// received counts the responses the node's GetFlows calls delivered.
	received atomic.Uint64
}

// NodeInfo is a snapshot of one peer.
type NodeInfo struct {
	Peer
	// State is NODE_CONNECTED when the connection is up, NODE_UNAVAILABLE
	// while it is down or being established, NODE_ERROR when the peer
	// cannot be dialed at all.
	State relaypb.NodeState
	// Available says calls are worth trying: the connection is up or
	// being established, not failing.
	Available bool
	// TLS says the connection uses TLS, verifying Peer.TLSServerName.
	TLS bool
	// Err explains NODE_ERROR.
	Err    error
	Client observerpb.ObserverClient
	Conn   grpc.ClientConnInterface
	// ConnID changes when the peer changes and gets a new connection.
	ConnID uint64

	received *atomic.Uint64
}

// NewPool returns an empty pool dialing peers as cfg says.
func NewPool(cfg DialConfig, log *slog.Logger) (*Pool, error) {
	d, err := newDialer(cfg, log)
	if err != nil {
		return nil, err
	}
	return &Pool{dialer: d, log: log, nodes: map[string]*node{}, changed: make(chan struct{})}, nil
}

// DialPeerService connects to the agent peer service at target (host:port
// or a gRPC target such as unix:///var/run/fovea/hubble.sock) with the
// pool's credentials; serverName is verified when TLS is on.
func (p *Pool) DialPeerService(target, serverName string) (*grpc.ClientConn, error) {
	if strings.HasPrefix(target, "unix://") {
		// A local socket is plaintext whatever the peer TLS settings.
		plain := &dialer{cfg: p.dialer.cfg}
		return plain.dial(target, "")
	}
	return p.dialer.dial(target, serverName)
}

// Run feeds the pool from listers until ctx ends, then closes every
// connection. It fails only if a lister fails.
func (p *Pool) Run(ctx context.Context, listers ...PeerLister) error {
	if len(listers) == 0 {
		return errors.New("run peer pool: no peer source")
	}
	p.mu.Lock()
	p.ctx = ctx
	p.mu.Unlock()
	defer p.closeAll()
	g, gctx := errgroup.WithContext(ctx)
	for _, l := range listers {
		g.Go(func() error { return l.Run(gctx, p.apply) })
	}
	return g.Wait()
}

// Changed returns a channel closed at the next change of the pool: a peer
// added, removed or updated, or a connection changing state.
func (p *Pool) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

func (p *Pool) signalLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *Pool) signal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.signalLocked()
}

// Nodes returns every peer, sorted by name.
func (p *Pool) Nodes() []NodeInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]NodeInfo, 0, len(p.nodes))
	for _, n := range p.nodes {
		ni := n.info(p.dialer.tlsEnabled())
		ni.TLSServerName = ""
		if ni.TLS {
			ni.TLSServerName = p.dialer.serverName(n.peer)
		}
		out = append(out, ni)
	}
	slices.SortFunc(out, func(a, b NodeInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (n *node) info(tls bool) NodeInfo {
	ni := NodeInfo{Peer: n.peer, TLS: tls, Client: n.client, Err: n.err, ConnID: n.id, received: &n.received}
	if n.conn != nil {
		ni.Conn = n.conn
	}
	if n.conn == nil {
		ni.State = relaypb.NodeState_NODE_ERROR
		return ni
	}
	switch n.conn.GetState() {
	case connectivity.Ready:
		ni.State, ni.Available = relaypb.NodeState_NODE_CONNECTED, true
	case connectivity.Idle, connectivity.Connecting:
		ni.State, ni.Available = relaypb.NodeState_NODE_UNAVAILABLE, true
	default:
		ni.State = relaypb.NodeState_NODE_UNAVAILABLE
	}
	return ni
}

// apply records one change from a lister.
func (p *Pool) apply(c PeerChange) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old, known := p.nodes[c.Peer.Name]
	switch c.Type {
	case PeerDeleted:
		if !known {
			return
		}
		old.close()
		delete(p.nodes, c.Peer.Name)
		p.log.Info("peer removed", "peer", c.Peer.Name)
	case PeerAdded, PeerUpdated:
		if known && old.peer == c.Peer {
			return
		}
		if known {
			old.close()
		}
		p.nodes[c.Peer.Name] = p.connectLocked(c.Peer)
		p.log.Info("peer added", "peer", c.Peer.Name, "address", c.Peer.Address, "replaced", known)
	}
	p.signalLocked()
}

// connectLocked dials peer and watches its connection state.
func (p *Pool) connectLocked(peer Peer) *node {
	p.conns++
	n := &node{peer: peer, id: p.conns}
	if peer.Address == "" {
		n.err = fmt.Errorf("peer %s has no address: its agent serves no TCP", peer.Name)
		return n
	}
	conn, err := p.dialer.dial(peer.Address, p.dialer.serverName(peer))
	if err != nil {
		n.err = err
		return n
	}
	n.conn, n.client = conn, observerpb.NewObserverClient(conn)
	ctx, stop := context.WithCancel(p.ctx)
	n.stop = stop
	go p.watch(ctx, conn)
	return n
}

// watch keeps conn connected, since gRPC otherwise waits in IDLE for a call
// after losing a connection, and signals each state change.
func (p *Pool) watch(ctx context.Context, conn *grpc.ClientConn) {
	for {
		s := conn.GetState()
		if s == connectivity.Idle {
			conn.Connect()
		}
		p.signal()
		if !conn.WaitForStateChange(ctx, s) {
			return
		}
	}
}

func (n *node) close() {
	if n.stop != nil {
		n.stop()
	}
	if n.conn != nil {
		n.conn.Close()
	}
}

func (p *Pool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, n := range p.nodes {
		n.close()
		delete(p.nodes, name)
	}
	p.signalLocked()
}
