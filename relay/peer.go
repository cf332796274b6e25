package relay

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/foveanet/fovea/api/peer"
)

// Peer is an agent the relay connects to.
type Peer struct {
	// Name identifies the node, as in flows' node_name ("cluster/node" or
	// "node").
	Name string
	// Address is the agent's host:port.
	Address string
	// TLSServerName is the name the agent's certificate is issued for;
	// empty means the peer announced no TLS.
	TLSServerName string
}

// ChangeType says what happened to a peer.
type ChangeType int

// Peer changes, as peer.Notify reports them.
const (
	PeerAdded ChangeType = iota
	PeerDeleted
	PeerUpdated
)

// PeerChange is one addition, removal or update of a peer.
type PeerChange struct {
	Type ChangeType
	Peer Peer
}

// PeerLister is a source of peers: Run reports every peer it knows through
// update, then changes as they happen, until ctx ends. Run is called once
// and calls update from one goroutine.
type PeerLister interface {
	Run(ctx context.Context, update func(PeerChange)) error
}

// StaticPeers is a fixed list of peers.
type StaticPeers []Peer

// Run reports every peer once and waits for ctx.
func (s StaticPeers) Run(ctx context.Context, update func(PeerChange)) error {
	for _, p := range s {
		update(PeerChange{Type: PeerAdded, Peer: p})
	}
	<-ctx.Done()
	return nil
}

// ParsePeers parses --peers entries, each "host:port" or "name=host:port";
// a peer without a name is named by its address.
func ParsePeers(entries []string) (StaticPeers, error) {
	peers := make(StaticPeers, 0, len(entries))
	seen := map[string]bool{}
	for i, e := range entries {
		name, addr, named := strings.Cut(strings.TrimSpace(e), "=")
		if !named {
			name, addr = e, e
		}
		if name == "" {
			return nil, fmt.Errorf("--%s: entry %d %q: empty node name", flagPeers, i, e)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("--%s: entry %d %q: %w", flagPeers, i, e, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("--%s: entry %d: node %q listed twice", flagPeers, i, name)
		}
		seen[name] = true
		peers = append(peers, Peer{Name: name, Address: addr})
	}
	return peers, nil
}

// defaultServerName is the name a node's Hubble certificate is issued for,
// from its name as flows carry it: "cluster/node" or "node" in the default
// cluster.
func defaultServerName(name string) string {
	cluster, node, ok := strings.Cut(name, "/")
	if !ok {
		cluster, node = "", name
	}
	return peer.TLSServerName(node, cluster)
}
