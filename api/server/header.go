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

func (s *Server) streamVersionHeader(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if s.version != "" {
		_ = ss.SetHeader(s.header())
	}
	return h(srv, ss)
}
