package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	peerpb "github.com/cilium/cilium/api/v1/peer"
	"google.golang.org/grpc"
)

// defaultAgentPort is the port assumed for a notified peer address that has
// none, as Hubble does.
const defaultAgentPort = "4244"

// NotifyPeers learns peers from an agent's peer.Peer/Notify stream,
// reconnecting with exponential backoff when the stream breaks. Peers stay
// known across reconnections: the agent announces them all again, and a
// broken stream says nothing about the peers themselves.
type NotifyPeers struct {
	conn    *grpc.ClientConn
	log     *slog.Logger
	backoff backoff
}

// NewNotifyPeers returns a PeerLister reading the peer service at conn;
// Run closes conn.
func NewNotifyPeers(conn *grpc.ClientConn, log *slog.Logger, maxBackoff time.Duration) *NotifyPeers {
	return &NotifyPeers{conn: conn, log: log, backoff: newBackoff(time.Second, maxBackoff)}
}

// Run streams changes until ctx ends.
func (n *NotifyPeers) Run(ctx context.Context, update func(PeerChange)) error {
	defer n.conn.Close()
	client := peerpb.NewPeerClient(n.conn)
	for attempt := 0; ; attempt++ {
		received, err := n.stream(ctx, client, update)
		if ctx.Err() != nil {
			return nil
		}
		if received {
			attempt = 0
		}
		delay := n.backoff.delay(attempt)
		n.log.Warn("peer notification stream broke; reconnecting", "target", n.conn.Target(), "error", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
	}
}

// stream runs one Notify call; received reports whether it got anything, so
// that a stream that worked resets the backoff.
func (n *NotifyPeers) stream(ctx context.Context, client peerpb.PeerClient, update func(PeerChange)) (received bool, err error) {
	s, err := client.Notify(ctx, &peerpb.NotifyRequest{})
	if err != nil {
		return false, fmt.Errorf("call peer.Notify: %w", err)
	}
	for {
		cn, err := s.Recv()
		if err != nil {
			return received, fmt.Errorf("receive peer change: %w", err)
		}
		received = true
		change, err := fromNotification(cn)
		if err != nil {
			n.log.Warn("ignoring peer change", "error", err)
			continue
		}
		update(change)
	}
}

// fromNotification converts a peer.Notify change.
func fromNotification(cn *peerpb.ChangeNotification) (PeerChange, error) {
	if cn.GetName() == "" {
		return PeerChange{}, errors.New("peer change without a name")
	}
	p := Peer{Name: cn.GetName(), Address: cn.GetAddress(), TLSServerName: cn.GetTls().GetServerName()}
	if p.Address != "" {
		if _, _, err := net.SplitHostPort(p.Address); err != nil {
			p.Address = net.JoinHostPort(p.Address, defaultAgentPort)
		}
	}
	var t ChangeType
	switch cn.GetType() {
	case peerpb.ChangeNotificationType_PEER_ADDED:
		t = PeerAdded
	case peerpb.ChangeNotificationType_PEER_DELETED:
		t = PeerDeleted
	case peerpb.ChangeNotificationType_PEER_UPDATED:
		t = PeerUpdated
	default:
		return PeerChange{}, fmt.Errorf("peer %s: unknown change type %v", cn.GetName(), cn.GetType())
	}
	return PeerChange{Type: t, Peer: p}, nil
}
