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
	"google.golang.org/grpc"
	"k8s.io/client-go/kubernetes"
	npclient "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned"

	"github.com/foveanet/fovea/agent/capture"
	"github.com/foveanet/fovea/agent/dns"
	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/agent/enrich"
	"github.com/foveanet/fovea/agent/flowmetrics"
	"github.com/foveanet/fovea/agent/http"
	"github.com/foveanet/fovea/agent/inventory"
	"github.com/foveanet/fovea/agent/kube"
	"github.com/foveanet/fovea/agent/metricsconfig"
	"github.com/foveanet/fovea/agent/periodic"
	"github.com/foveanet/fovea/agent/policy"
	"github.com/foveanet/fovea/agent/retina"
	"github.com/foveanet/fovea/agent/sweep"
	"github.com/foveanet/fovea/api/capture/capturepb"
	"github.com/foveanet/fovea/api/kubeclient"
	"github.com/foveanet/fovea/api/metrics"
	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/api/peer"
	"github.com/foveanet/fovea/api/server"
	"github.com/foveanet/fovea/bpf"
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
type Source interface {
	Run(ctx context.Context, emit func(*record.Record)) error
	Close() error
	// Collector reports what it read, dropped and lost.
	Collector() prometheus.Collector
}

// Run runs an agent until ctx ends: the packet source, the pipeline into the
// ring, the Hubble API and the metrics endpoint.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	return RunWithSource(ctx, cfg, log, newSource)
}

// RunWithSource is Run with the packet source newSource builds instead of
// the platform's. End-to-end tests feed recorded events (the Windows
// PktMon fixtures) through the whole agent with it; no command uses it.
func RunWithSource(ctx context.Context, cfg Config, log *slog.Logger, newSource SourceFunc) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	a := agent{cfg: cfg, log: log, reg: metrics.NewRegistry()}
	var err error
	if a.dp, err = newDatapath(cfg, log, newSource); err != nil {
		return err
	}
	defer a.dp.close(log)
	if a.enr, err = newEnrichment(cfg, a.dp, log); err != nil {
		return err
	}
	obs, err := newObserver(cfg, a.dp, a.enr.pipeline, log)
	if err != nil {
		return err
	}
	if a.flowMetrics, a.metricsConfig, err = newFlowMetrics(cfg, a.dp, obs, a.enr.pods, log); err != nil {
		return err
	}
	a.enr.pipeline.flowMetrics = a.flowMetrics
	if a.retinaNode, err = newRetinaNode(cfg, a.dp.src, log); err != nil {
		return err
	}
	if a.export, err = newExport(cfg, a.dp, log); err != nil {
		return err
	}
	captures, err := capture.NewServer(cfg.Capture, a.dp.node, a.enr.pods, log.With("component", "capture"))
	if err != nil {
		return err
	}
	if a.srv, err = newServer(cfg, a.dp, obs, captures, log); err != nil {
		return err
	}
	if err := a.instruments(obs).register(a.reg); err != nil {
		return err
	}
	// Listen before anything runs, so that a bad address stops the agent
	// before it attaches to the datapath.
	if a.metricsLis, err = listenMetrics(cfg.MetricsAddress); err != nil {
		return err
	}
	return a.run(ctx)
}

// agent is what Run builds, for its last step to run.
type agent struct {
	cfg        Config
	log        *slog.Logger
	reg        *metrics.Registry
	dp         *datapath
	enr        *enrichment
	srv        *server.Server
	metricsLis net.Listener // nil: no metrics endpoint

	// flowMetrics are Hubble's flow metrics, fed by the pipeline;
	// metricsConfig applies their config file, if they have one.
	flowMetrics   *flowmetrics.Metrics
	metricsConfig *metricsconfig.Watcher
	// retinaNode are Retina's node series, nil when they are off.
	retinaNode *retina.Node
	// export runs the flow logs, each following the ring.
	export *exporting
}

// datapath is what captures: the packet source, the ring it writes and the
// tables its records refer to.
type datapath struct {
	tables *intern.Tables
	node   *flowview.Node
	ring   *ringbuffer.Ring[record.Record]
	names  *dns.Names // what the source's DNS responses teach
	parser *dns.Parser
	http   *http.Parser
	l7     *l7.Store
	events *observer.AgentEvents
	src    Source
	// capturing is closed once the source has attached to the interfaces
	// present at start.
	capturing chan struct{}
}

// newDatapath builds the intern tables, the ring, the DNS parser and the
// packet source.
func newDatapath(cfg Config, log *slog.Logger, newSource SourceFunc) (*datapath, error) {
	tables := intern.NewTables()
	ring, err := ringbuffer.New[record.Record](cfg.RingCapacity)
	if err != nil {
		return nil, fmt.Errorf("create ring: %w", err)
	}
	dnsParser, names, l7Store, err := newDNS(tables, int(ring.Cap()))
	if err != nil {
		return nil, err
	}
	// Built even when off, so its series exist (at zero) either way.
	httpParser, err := http.NewParser(l7Store, cfg.HTTP)
	if err != nil {
		return nil, err
	}
	dp := &datapath{
		tables:    tables,
		node:      flowview.NewNode(cfg.NodeName, cfg.ClusterName, cfg.Version, nil, tables),
		ring:      ring,
		names:     names,
		parser:    dnsParser,
		http:      httpParser,
		l7:        l7Store,
		events:    observer.NewAgentEvents(),
		capturing: make(chan struct{}),
	}
	attached := sync.OnceFunc(func() { close(dp.capturing) })
	parsers := newL7Parsers(ports16(cfg.DNSPorts), dnsParser, httpParser)
	if cfg.HTTP.Disable {
		parsers.http = nil
	}
	if dp.src, err = newSource(cfg, log, tables, parsers, dp.events, attached); err != nil {
		return nil, err
	}
	return dp, nil
}

// SourceFunc builds the packet source: newSource, or a stand-in in tests
// that cannot load the eBPF datapath or replay recorded events. The source
// interns into tables, hands payload snippets (DNS, HTTP) to l7, publishes attach events
// and calls ready once it captures.
type SourceFunc func(cfg Config, log *slog.Logger, tables *intern.Tables, l7 bpf.L7Parser, events *observer.AgentEvents, ready func()) (Source, error)

func (dp *datapath) close(log *slog.Logger) {
	if err := dp.src.Close(); err != nil {
		log.Warn("cannot release the packet source", "err", err)
	}
}

// enrichment is what labels records on their way into the ring, and keeps
// what they reference current and bounded.
type enrichment struct {
	pipeline *pipeline
	reserved *enrich.Reserved
	// pods is the index of pods and services the enricher reads, which
	// packet captures select pods from.
	pods     *endpoints.Store
	feedPods func(context.Context) error // nil: no source of pods
	// feedMetrics are the series of what feeds pods, if anything does.
	feedMetrics []prometheus.Collector
	sweeper     *sweep.Sweeper
}

// newEnrichment builds the pipeline into the ring with its enrichers, what
// feeds them, and the sweeper of what they intern.
func newEnrichment(cfg Config, dp *datapath, log *slog.Logger) (*enrichment, error) {
	reserved := enrich.NewReserved(dp.tables)
	// Know the node's addresses before the first packet, or early flows
	// would name the host as the world.
	refreshLocalAddrs(reserved, log)
	store := endpoints.NewStore()
	policies := policy.NewStore()
	pods, feedPods, feedMetrics, watchesPolicies, err := newEndpoints(cfg, store, policies, dp.node, dp.events, log)
	if err != nil {
		return nil, err
	}
	namespaces := observer.NewNamespaceTracker(observer.WithNamespaceCluster(cfg.ClusterName))
	// Pods first: the reserved identities label only what is left.
	p := &pipeline{ring: dp.ring, enrichers: []Enricher{pods, reserved, enrich.NewNames(dp.names)}, namespaces: namespaces,
		endpoints: dp.tables.Endpoints, l7: dp.l7}
	holders := []intern.Holder{p, pods, dp.names}
	if watchesPolicies {
		p.policies = policy.NewStage(policies, dp.tables, policy.WithStageLogger(log),
			policy.WithStageNotify(func(typ, detail string) { dp.events.Publish(unknownAgentEvent(typ, detail)) }))
		holders = append(holders, p.policies)
		feedMetrics = append(feedMetrics, p.policies.Collector())
	}
	sweeper, err := newSweeper(cfg, dp.tables, holders, dp.src, log)
	if err != nil {
		return nil, err
	}
	return &enrichment{pipeline: p, reserved: reserved, pods: store, feedPods: feedPods, feedMetrics: feedMetrics, sweeper: sweeper}, nil
}

// newObserver builds the Hubble Observer of the ring p writes.
func newObserver(cfg Config, dp *datapath, p *pipeline, log *slog.Logger) (*observer.Server, error) {
	obs, err := observer.New(dp.ring, dp.node,
		observer.WithLogger(log),
		observer.WithVersion(cfg.Version),
		observer.WithSeenFlows(p.seen.Load),
		observer.WithNamespaces(p.namespaces),
		observer.WithAgentEvents(dp.events),
	)
	if err != nil {
		return nil, fmt.Errorf("create observer: %w", err)
	}
	return obs, nil
}

// newServer builds the gRPC server of obs, the node's Peer service and its
// Capture service.
func newServer(cfg Config, dp *datapath, obs *observer.Server, captures *capture.Server, log *slog.Logger) (*server.Server, error) {
	srv, err := server.New(cfg.Server, log, obs, peer.NewSelf(dp.node, cfg.Server), server.WithVersion(cfg.Version),
		server.WithService(func(r grpc.ServiceRegistrar) { capturepb.RegisterCaptureServer(r, captures) }))
	if err != nil {
		return nil, fmt.Errorf("create server: %w", err)
	}
	return srv, nil
}

// instruments are the agent's components that expose series.
func (a *agent) instruments(obs *observer.Server) instruments {
	in := instruments{
		ring: newRingCollector(a.dp.ring, &a.enr.pipeline.seen), tables: a.dp.tables, l7: a.dp.l7,
		names: a.dp.names, parser: a.dp.parser, http: a.dp.http, source: a.dp.src, sweeper: a.enr.sweeper, observer: obs,
		flowMetrics: a.flowMetrics, export: a.export, feed: a.enr.feedMetrics,
		retinaNode: a.retinaNode, retinaLabels: retinaLabels(a.cfg),
	}
	if a.metricsConfig != nil {
		in.metricsConfig = a.metricsConfig.Collector()
	}
	return in
}

// listenMetrics listens on addr, unless it is empty (then nil).
func listenMetrics(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--%s: listen: %w", flagMetricsAddress, err)
	}
	return lis, nil
}

// run starts every part and waits until ctx ends or one fails.
func (a *agent) run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	// The server outlives ctx briefly so that agent-event subscribers hear
	// that the agent is stopping before their streams end.
	srvCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServer()
	g.Go(func() error {
		<-ctx.Done()
		a.log.Info("agent stopping", "cause", context.Cause(ctx))
		a.dp.events.Publish(agentStopping())
		stopServer()
		return nil
	})
	g.Go(func() error {
		return periodic.Run(ctx, a.cfg.LocalAddrsRefresh, func() error {
			refreshLocalAddrs(a.enr.reserved, a.log)
			return nil
		})
	})
	g.Go(func() error { return a.dp.src.Run(ctx, a.enr.pipeline.emit) })
	g.Go(func() error { return a.enr.sweeper.Run(ctx) })
	g.Go(func() error { return a.flowMetrics.Run(ctx) })
	if a.metricsConfig != nil {
		g.Go(func() error { return a.metricsConfig.Run(ctx) })
	}
	a.export.run(ctx, g)
	if a.enr.feedPods != nil {
		g.Go(func() error { return a.enr.feedPods(ctx) })
	}
	// Clients are served only once the datapath is attached: a socket that
	// answers means flows are being captured.
	g.Go(func() error {
		select {
		case <-a.dp.capturing:
			return a.srv.Run(srvCtx)
		case <-ctx.Done():
			return nil
		}
	})
	if a.metricsLis != nil {
		g.Go(func() error { return metrics.Serve(ctx, a.metricsLis, a.reg, a.log) })
	}
	a.dp.events.Publish(agentStarted(time.Now()))
	a.log.Info("agent running", "node", a.cfg.NodeName, "ring_capacity", a.dp.ring.Cap(), "socket", a.cfg.Server.SocketPath)
	err := g.Wait()
	// The source logged its own stages as it stopped; these are the ring's.
	a.log.Info("agent stopped", "flows_seen", a.enr.pipeline.seen.Load(), "ring_writes", a.dp.ring.Head())
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// newEndpoints returns the enricher that labels pods and services, what
// feeds it: the inventory file, the Kubernetes API (--kubeconfig, or the
// cluster the agent runs in, which also labels node), or nothing (nil),
// the feed's metrics, and whether it keeps policies current (the
// Kubernetes API with --network-policies).
func newEndpoints(cfg Config, store *endpoints.Store, policies *policy.Store, node *flowview.Node, events *observer.AgentEvents,
	log *slog.Logger) (*enrich.Endpoints, func(context.Context) error, []prometheus.Collector, bool, error) {
	tables := node.Tables
	switch {
	case cfg.Inventory != "":
		inv, err := inventory.New(cfg.Inventory, cfg.ClusterName, tables, store,
			inventory.WithLogger(log), inventory.WithInterval(cfg.InventoryInterval), inventory.WithLocalNode(cfg.NodeName))
		if err != nil {
			return nil, nil, nil, false, fmt.Errorf("--%s: %w", flagInventory, err)
		}
		return enrich.NewEndpoints(store), inv.Run, []prometheus.Collector{inv.Collector()}, false, nil
	case cfg.Kubeconfig != "" || kubeclient.InCluster():
		notify := func(typ, detail string) { events.Publish(unknownAgentEvent(typ, detail)) }
		// One health for the client's requests and the informers' lists
		// and watches, so an outage is reported once.
		health := kubeclient.NewAPIHealth(log, notify)
		restCfg, err := kubeclient.Config(cfg.Kubeconfig, "fovea-agent", health)
		if err != nil {
			return nil, nil, nil, false, fmt.Errorf("--%s: %w", flagKubeconfig, err)
		}
		client, err := kubernetes.NewForConfig(restCfg)
		if err != nil {
			return nil, nil, nil, false, fmt.Errorf("--%s: create Kubernetes client: %w", flagKubeconfig, err)
		}
		opts := []kube.Option{kube.WithLocalNode(cfg.NodeName), kube.WithLogger(log), kube.WithNodeLabels(node.SetLabels),
			kube.WithNotify(notify), kube.WithHealth(health)}
		if cfg.NetworkPolicies {
			cnps, err := npclient.NewForConfig(restCfg)
			if err != nil {
				return nil, nil, nil, false, fmt.Errorf("--%s: create ClusterNetworkPolicy client: %w", flagKubeconfig, err)
			}
			opts = append(opts, kube.WithPolicies(policies), kube.WithClusterPolicies(cnps))
		}
		w, err := kube.New(client, cfg.ClusterName, tables, store, opts...)
		if err != nil {
			return nil, nil, nil, false, fmt.Errorf("--%s: %w", flagKubeconfig, err)
		}
		return enrich.NewEndpoints(store), w.Run, []prometheus.Collector{w.Collector(), health.Collector()}, cfg.NetworkPolicies, nil
	}
	return enrich.NewEndpoints(store), nil, nil, false, nil
}

// newSweeper returns the sweeper of the intern tables. Besides holders, the
// source holds interfaces if it says so; the reserved endpoints and kernel
// drop reason names are pinned by whoever interns them.
func newSweeper(cfg Config, tables *intern.Tables, holders []intern.Holder, src Source, log *slog.Logger) (*sweep.Sweeper, error) {
	if h, ok := src.(intern.Holder); ok {
		holders = append(holders, h)
	}
	return sweep.New(tables, holders, sweep.WithInterval(cfg.InternSweepInterval), sweep.WithLogger(log))
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

// refreshLocalAddrs re-reads the node's addresses for the host identity; on
// failure the previous set stays.
func refreshLocalAddrs(e *enrich.Reserved, log *slog.Logger) {
	addrs, err := enrich.LocalAddrs()
	if err != nil {
		log.Warn("cannot refresh node addresses; keeping the previous set", "err", err)
		return
	}
	e.SetLocalAddrs(addrs)
}
