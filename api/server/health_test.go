package server

import (
	"context"
	"testing"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// TestHealthAddress checks that the health address answers a plaintext
// health check, as the kubelet's gRPC probe sends it, while the Hubble API
// requires mutual TLS, and that it serves nothing but health.
func TestHealthAddress(t *testing.T) {
	s := newTLSSetup(t, true)
	s.cfg.HealthAddress = freeAddr(t)
	start(t, s.cfg)
	conn := dial(t, s.cfg.HealthAddress, insecure.NewCredentials())
	ctx := context.Background()
	for _, svc := range []string{"", HealthService} {
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health %q: %v, %v", svc, resp, err)
		}
	}
	_, err := observerpb.NewObserverClient(conn).ServerStatus(ctx, &observerpb.ServerStatusRequest{})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("ServerStatus on the health address: %v, want Unimplemented", err)
	}
}
