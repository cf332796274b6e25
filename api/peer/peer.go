package peer

import (
	"context"

	peerpb "github.com/cilium/cilium/api/v1/peer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// NodeSet is the set of Hubble peers a Server reports.
type NodeSet interface {
	// Subscribe returns the peers known now and a channel of later changes
	// (PEER_ADDED, PEER_DELETED, PEER_UPDATED). The channel is closed, or
	// simply never sends again, once ctx ends; a nil channel never sends.
	Subscribe(ctx context.Context) (current []*peerpb.ChangeNotification, changes <-chan *peerpb.ChangeNotification)
}

// Server implements peerpb.PeerServer over a NodeSet.
type Server struct {
	peerpb.UnimplementedPeerServer
	nodes NodeSet
}

var _ peerpb.PeerServer = (*Server)(nil)

// New returns a Server reporting nodes.
func New(nodes NodeSet) *Server { return &Server{nodes: nodes} }

// Notify sends every known peer as PEER_ADDED, then each change until the
// client leaves.
func (s *Server) Notify(_ *peerpb.NotifyRequest, stream grpc.ServerStreamingServer[peerpb.ChangeNotification]) error {
	ctx := stream.Context()
	current, changes := s.nodes.Subscribe(ctx)
	for _, cn := range current {
		added := &peerpb.ChangeNotification{
			Name:    cn.GetName(),
			Address: cn.GetAddress(),
			Type:    peerpb.ChangeNotificationType_PEER_ADDED,
			Tls:     cn.GetTls(),
		}
		if err := stream.Send(added); err != nil {
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case cn, ok := <-changes:
			if !ok {
				<-ctx.Done()
				return status.FromContextError(ctx.Err()).Err()
			}
			if err := stream.Send(cn); err != nil {
				return err
			}
		}
	}
}
