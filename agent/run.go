package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/foveanet/fovea/agent/dns"
	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/agent/enrich"
	"github.com/foveanet/fovea/agent/inventory"
	"github.com/foveanet/fovea/agent/kube"
	"github.com/foveanet/fovea/api/filters"
	"github.com/foveanet/fovea/api/kubeclient"
	"github.com/foveanet/fovea/api/metrics"
	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/api/peer"
	"github.com/foveanet/fovea/api/server"
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/l7"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/ringbuffer"
)

// Source produces records: the Linux eBPF datapath, Windows ETW, or a replay
// in tests. Run blocks until ctx ends or the source fails; it calls emit
// from one goroutine (the ring takes a single writer), and emit does not
// retain the record. Close releases what the source holds (kernel objects).
// Collector reports what it read, dropped and lost.
type Source interface {
	Run(ctx context.Context, emit func(*record.Record)) error
	Close() error
	Collector() prometheus.Collector
}

// Run runs an agent until ctx ends: the packet source, the pipeline into the
// ring, the Hubble API and the metrics endpoint.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	tables := intern.NewTables()
	node := flowview.NewNode(cfg.NodeName, cfg.ClusterName, cfg.Version, nil, tables)
	ring, err := ringbuffer.New[record.Record](cfg.RingCapacity)
	if err != nil {
		return fmt.Errorf("create ring: %w", err)
	}
	dnsParser, names, l7Store, err := newDNS(tables, int(ring.Cap()))
	if err != nil {
		return err
	}
	events := observer.NewAgentEvents()
	// Clients are served only once the datapath is attached: a socket that
	// answers means flows are being captured.
	capturing := make(chan struct{})
	src, err := newSource(cfg, log, tables, dnsParser, events, sync.OnceFunc(func() { close(capturing) }))
	if err != nil {
		return err
	}
	defer func() {
		if err := src.Close(); err != nil {
			log.Warn("cannot release the packet source", "err", err)
		}
	}()
	reserved := enrich.NewReserved(tables)
	// Know the node's addresses before the first packet, or early flows
	// would name the host as the world.
	if addrs, err := enrich.LocalAddrs(); err == nil {
		reserved.SetLocalAddrs(addrs)
	}
	pods, feedPods, feedMetrics, err := newEndpoints(cfg, node, events, log)
	if err != nil {
		return err
	}
	namespaces := observer.NewNamespaceTracker(observer.WithNamespaceCluster(cfg.ClusterName))
	// Pods first: the reserved identities label only what is left.
	p := &pipeline{ring: ring, enrichers: []Enricher{pods, reserved, enrich.NewNames(names)}, namespaces: namespaces, endpoints: tables.Endpoints}
	sweeper, err := newSweeper(cfg, tables, []intern.Holder{p, pods, names}, src, log)
	if err != nil {
		return err
	}

	obs, err := observer.New(ring, node,
		observer.WithLogger(log),
		observer.WithVersion(cfg.Version),
		observer.WithSeenFlows(p.seen.Load),
		observer.WithFilterBuilder(filters.Build),
		observer.WithNamespaces(namespaces),
		observer.WithAgentEvents(events),
	)
	if err != nil {
		return fmt.Errorf("create observer: %w", err)
	}
	reg := metrics.NewRegistry()
	if err := (instruments{
		ring: newRingCollector(ring, &p.seen), tables: tables, l7: l7Store, names: names, parser: dnsParser,
		source: src, sweeper: sweeper, observer: obs, feed: feedMetrics,
	}).register(reg); err != nil {
		return err
	}
	srv, err := server.New(cfg.Server, log, obs, peer.NewSelf(node, cfg.Server), server.WithVersion(cfg.Version))
	if err != nil {
		return fmt.Errorf("create server: %w", err)
	}

	// Listen before anything runs, so that a bad address stops the agent
	// before it attaches to the datapath.
	var metricsLis net.Listener
	if cfg.MetricsAddress != "" {
		if metricsLis, err = net.Listen("tcp", cfg.MetricsAddress); err != nil {
			return fmt.Errorf("--metrics-address: listen: %w", err)
		}
	}

	g, ctx := errgroup.WithContext(ctx)
	// The server outlives ctx briefly so that agent-event subscribers hear
	// that the agent is stopping before their streams end.
	srvCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServer()
	g.Go(func() error {
		<-ctx.Done()
		events.Publish(agentStopping())
		stopServer()
		return nil
	})
	g.Go(func() error { return refreshLocalAddrs(ctx, reserved, cfg.LocalAddrsRefresh, log) })
	g.Go(func() error { return src.Run(ctx, p.emit) })
	g.Go(func() error { return sweeper.Run(ctx) })
	if feedPods != nil {
		g.Go(func() error { return feedPods(ctx) })
	}
	g.Go(func() error {
		select {
		case <-capturing:
			return srv.Run(srvCtx)
		case <-ctx.Done():
			return nil
		}
	})
	if metricsLis != nil {
		g.Go(func() error { return metrics.Serve(ctx, metricsLis, reg, log) })
	}
	events.Publish(agentStarted(time.Now()))
	log.Info("agent running", "node", cfg.NodeName, "ring_capacity", ring.Cap(), "socket", cfg.Server.SocketPath)
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// newEndpoints returns the enricher that labels pods and services, what
// feeds it: the inventory file, the Kubernetes API (--kubeconfig, or the
// cluster the agent runs in, which also labels node), or nothing (nil),
// and the feed's metrics.
func newEndpoints(cfg Config, node *flowview.Node, events *observer.AgentEvents, log *slog.Logger) (*enrich.Endpoints, func(context.Context) error, []prometheus.Collector, error) {
	store, tables := endpoints.NewStore(), node.Tables
	switch {
	case cfg.Inventory != "":
		inv, err := inventory.New(cfg.Inventory, cfg.ClusterName, tables, store,
			inventory.WithLogger(log), inventory.WithInterval(cfg.InventoryInterval))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--inventory: %w", err)
		}
		return enrich.NewEndpoints(store), inv.Run, []prometheus.Collector{inv.Collector()}, nil
	case cfg.Kubeconfig != "" || kubeclient.InCluster():
		notify := func(typ, detail string) { events.Publish(unknownAgentEvent(typ, detail)) }
		// One health for the client's requests and the informers' lists
		// and watches, so an outage is reported once.
		health := kubeclient.NewAPIHealth(log, notify)
		client, err := kubeclient.New(cfg.Kubeconfig, "fovea-agent", health)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--kubeconfig: %w", err)
		}
		w, err := kube.New(client, cfg.ClusterName, tables, store, kube.WithLocalNode(cfg.NodeName),
			kube.WithLogger(log), kube.WithNodeLabels(node.SetLabels),
			kube.WithNotify(notify), kube.WithHealth(health))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--kubeconfig: %w", err)
		}
		return enrich.NewEndpoints(store), w.Run, []prometheus.Collector{w.Collector(), health.Collector()}, nil
	}
	return enrich.NewEndpoints(store), nil, nil, nil
}

// newSweeper returns the sweeper of the intern tables. Besides holders, the
// source holds interfaces if it says so; the reserved endpoints and kernel
// drop reason names are pinned by whoever interns them.
func newSweeper(cfg Config, tables *intern.Tables, holders []intern.Holder, src Source, log *slog.Logger) (*intern.Sweeper, error) {
	if h, ok := src.(intern.Holder); ok {
		holders = append(holders, h)
	}
	return intern.NewSweeper(tables, holders, intern.WithInterval(cfg.InternSweepInterval),
		intern.WithLogger(log))
}

// newDNS builds the DNS parser the source hands DNS payloads to, the
// IP→names cache its responses feed, and its L7 store (one slot per ring
// slot, so every L7 record in the ring keeps its details).
func newDNS(tables *intern.Tables, ringCap int) (*dns.Parser, *dns.Names, *l7.Store, error) {
	store, err := l7.NewStore(ringCap)
	if err != nil {
		return nil, nil, nil, err
	}
	tables.L7 = store
	names, err := dns.NewNames(tables.Names)
	if err != nil {
		return nil, nil, nil, err
	}
	parser, err := dns.NewParser(store, dns.WithNames(names))
	if err != nil {
		return nil, nil, nil, err
	}
	return parser, names, store, nil
}

// refreshLocalAddrs keeps the host identity's address set current.
func refreshLocalAddrs(ctx context.Context, e *enrich.Reserved, every time.Duration, log *slog.Logger) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		addrs, err := enrich.LocalAddrs()
		if err != nil {
			log.Warn("cannot refresh node addresses; keeping the previous set", "err", err)
		} else {
			e.SetLocalAddrs(addrs)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
