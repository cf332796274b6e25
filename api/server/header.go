package server

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// versionHeader is the response header naming the server's version, as a
// Hubble agent sends it.
const versionHeader = "hubble-server-version"

func (s *Server) header() metadata.MD { return metadata.Pairs(s.versionKey, s.version) }

func (s *Server) unaryVersionHeader(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if s.version != "" {
		// Only fails once headers were sent, which cannot have happened yet.
		_ = grpc.SetHeader(ctx, s.header())
	}
	return h(ctx, req)
}

// streamVersionHeader sends a stream's headers at once, rather than with
// its first response, so that a client knows its stream was accepted: a
// following stream whose filter matches nothing may send no response for
// hours.
func (s *Server) streamVersionHeader(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	md := metadata.MD{}
	if s.version != "" {
		md = s.header()
	}
	// Fails only once the client has gone, which the handler will see.
	_ = ss.SendHeader(md)
	return h(srv, ss)
}
