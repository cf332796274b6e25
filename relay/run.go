package relay

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	peerpb "github.com/cilium/cilium/api/v1/peer"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/foveanet/fovea/api/capture/capturepb"
	"github.com/foveanet/fovea/api/kubeclient"
	"github.com/foveanet/fovea/api/metrics"
	"github.com/foveanet/fovea/api/server"
)

// VersionHeader is the response header naming the relay's version, as
// Hubble's relay sends it.
const VersionHeader = "hubble-relay-version"

// Run connects to the peers cfg names and serves the Hubble API for all of
// them until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	pool, err := NewPool(cfg.Dial, log.With("component", "pool"))
	if err != nil {
		return err
	}
	m := new(Metrics)
	obs, err := NewObserver(pool, cfg.Merge, log.With("component", "observer"),
		WithVersion(cfg.Version), WithNodeName(cfg.NodeName), WithMetrics(m))
	if err != nil {
		return err
	}
	// The relay serves no peer service of its own, as in Hubble.
	captures := NewCaptureServer(pool, log.With("component", "capture"))
	srv, err := server.New(cfg.Server, log, obs, peerpb.UnimplementedPeerServer{},
		server.WithVersionHeader(VersionHeader, cfg.Version), server.WithGRPCOptions(ServerOptions()...),
		server.WithService(func(r grpc.ServiceRegistrar) { capturepb.RegisterCaptureServer(r, captures) }))
	if err != nil {
		return fmt.Errorf("create relay server: %w", err)
	}
	var listers []PeerLister
	if len(cfg.Peers) > 0 {
		static, err := ParsePeers(cfg.Peers)
		if err != nil {
			return err
		}
		listers = append(listers, static)
	}
	if cfg.PeerService != "" {
		conn, err := pool.DialPeerService(cfg.PeerService, cfg.Dial.TLS.ServerName)
		if err != nil {
			return fmt.Errorf("--%s: %w", flagPeerService, err)
		}
		listers = append(listers, NewNotifyPeers(conn, log.With("component", "peers"), cfg.Dial.MaxBackoff))
	}
	var health *kubeclient.APIHealth
	if cfg.KubernetesPeers {
		// An unreachable API server is counted, logged and its end
		// reported, as the agent does; peers already known stay.
		health = kubeclient.NewAPIHealth(log.With("component", "kubernetes"), nil)
		client, err := kubeclient.New(cfg.Kubeconfig, "fovea-relay", health)
		if err != nil {
			return fmt.Errorf("--%s: %w", flagKubeconfig, err)
		}
		listers = append(listers, KubePeers{Client: client, Cluster: cfg.ClusterName, Port: cfg.PeerPort, Health: health})
	}
	reg := metrics.NewRegistry()
	if err := registerMetrics(reg, pool, m, health); err != nil {
		return err
	}
	// Listen before anything runs, so that a bad address stops the relay
	// before it dials its peers.
	var metricsLis net.Listener
	if cfg.MetricsAddress != "" {
		if metricsLis, err = net.Listen("tcp", cfg.MetricsAddress); err != nil {
			return fmt.Errorf("--%s: listen: %w", flagMetricsAddress, err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return pool.Run(gctx, listers...) })
	g.Go(func() error { return srv.Run(gctx) })
	if metricsLis != nil {
		g.Go(func() error { return metrics.Serve(gctx, metricsLis, reg, log) })
	}
	return g.Wait()
}
