package server

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// newHealth returns a health server reporting the server as a whole ("")
// and the Hubble Observer service as serving.
func newHealth() *health.Server {
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(HealthService, healthpb.HealthCheckResponse_SERVING)
	return hs
}

// healthOnly is the server of the health address: the health service and
// nothing else, since it is plaintext even where the Hubble API needs TLS.
func healthOnly(hs *health.Server) *grpc.Server {
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	return srv
}
