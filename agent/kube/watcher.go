package kube

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/kubernetes"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
	listersdiscoveryv1 "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	npclient "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/agent/policy"
	"github.com/foveanet/fovea/api/kubeclient"
	"github.com/foveanet/fovea/model/intern"
)

// Watcher keeps an endpoints.Store in step with a Kubernetes cluster.
type Watcher struct {
	cluster       string
	node          string
	tables        *intern.Tables
	store         *endpoints.Store
	log           *slog.Logger
	notify        func(event, detail string)
	setNodeLabels func([]string)
	debounce      time.Duration
	counts        counts

	// The local node's labels last published, touched only by Run's
	// goroutine.
	nodeLabels          []string
	nodeLabelsPublished bool

	health *kubeclient.APIHealth

	caches  []*resourceCache
	listers listers
	changed chan struct{}

	// policies, when set, get a network policy snapshot beside each index.
	policies      *policyFeed
	policyStore   *policy.Store
	clusterClient npclient.Interface
	client        kubernetes.Interface
	hooks         cacheHooks
	// served asks whether the API server serves ClusterNetworkPolicies
	// (clusterPoliciesServed; tests replace it); recheck is how often it
	// is asked again while they are not; clusterPoliciesReported says the
	// log has said so. Run's goroutine only.
	served                  func(context.Context) (bool, error)
	recheck                 time.Duration
	clusterPoliciesReported bool
}

// Option configures a Watcher.
type Option func(*Watcher)

// WithLogger sets where sync state and API errors are logged.
func WithLogger(log *slog.Logger) Option { return func(w *Watcher) { w.log = log } }

// WithNotify calls notify with an event name ("kubernetes_synced",
// "kubernetes_api_error") and a detail when the sync state changes, for
// agent events.
func WithNotify(notify func(event, detail string)) Option {
	return func(w *Watcher) { w.notify = notify }
}

// WithLocalNode names the node the agent runs on, so that the other nodes'
// addresses are labelled reserved:remote-node (the local node's are the
// host). Without it node addresses are left to the reserved enricher.
func WithLocalNode(name string) Option { return func(w *Watcher) { w.node = name } }

// WithNodeLabels calls set with the local node's labels (see
// WithLocalNode) in Hubble's form ("key=value", sorted) once the caches
// have synced and whenever they change; nil when the node is unknown.
func WithNodeLabels(set func([]string)) Option { return func(w *Watcher) { w.setNodeLabels = set } }

// WithHealth makes the watcher's informers report failed lists and watches
// to h, which the client's requests should report to as well (see
// kubeclient.New), and whose metrics are the caller's to register. Without
// it the watcher keeps its own, which hears of lists and watches only and
// whose metrics nobody exposes.
func WithHealth(h *kubeclient.APIHealth) Option { return func(w *Watcher) { w.health = h } }

// WithDebounce sets how long the watcher gathers changes before rebuilding
// the index.
func WithDebounce(d time.Duration) Option { return func(w *Watcher) { w.debounce = d } }

// WithPolicies makes the watcher also watch NetworkPolicies and publish, in
// store, a snapshot of the policies and pods beside each endpoint index
// (before it, so every endpoint a record references is in the snapshot).
func WithPolicies(store *policy.Store) Option { return func(w *Watcher) { w.policyStore = store } }

// WithClusterPolicies makes a watcher WithPolicies also watch the
// ClusterNetworkPolicies of sigs.k8s.io/network-policy-api through
// client, once the API server serves their CRD (asked at start, then
// every minute until it does).
func WithClusterPolicies(client npclient.Interface) Option {
	return func(w *Watcher) { w.clusterClient = client }
}

// New returns a watcher of client's cluster, named cluster in flows.
func New(client kubernetes.Interface, cluster string, tables *intern.Tables, store *endpoints.Store, opts ...Option) (*Watcher, error) {
	w := &Watcher{
		cluster: cluster, tables: tables, store: store,
		log: slog.New(slog.DiscardHandler), notify: func(string, string) {}, setNodeLabels: func([]string) {},
		debounce: 100 * time.Millisecond, changed: make(chan struct{}, 1), client: client, recheck: clusterPolicyRecheck,
	}
	w.served = w.clusterPoliciesServed
	for _, o := range opts {
		o(w)
	}
	if w.health == nil {
		w.health = kubeclient.NewAPIHealth(w.log, w.notify)
	}
	h := cacheHooks{transform: trimmer(w.node, w.policyStore != nil), changed: w.poke, failed: w.health.WatchErrorHandler}
	core, discovery := client.CoreV1(), client.DiscoveryV1()
	pods := newResourceCache(h, "pods", &corev1.Pod{}, client, core.Pods("").List, core.Pods("").Watch)
	services := newResourceCache(h, "services", &corev1.Service{}, client, core.Services("").List, core.Services("").Watch)
	epSlices := newResourceCache(h, "endpointslices", &discoveryv1.EndpointSlice{}, client,
		discovery.EndpointSlices("").List, discovery.EndpointSlices("").Watch)
	nodes := newResourceCache(h, "nodes", &corev1.Node{}, client, core.Nodes().List, core.Nodes().Watch)
	namespaces := newResourceCache(h, "namespaces", &corev1.Namespace{}, client, core.Namespaces().List, core.Namespaces().Watch)
	w.caches = []*resourceCache{pods, services, epSlices, nodes, namespaces}
	if w.policyStore != nil {
		w.policies = w.newPolicyFeed(h, client)
	}
	w.listers = listers{
		pods: listerscorev1.NewPodLister(pods.indexer), services: listerscorev1.NewServiceLister(services.indexer),
		slices: listersdiscoveryv1.NewEndpointSliceLister(epSlices.indexer), nodes: listerscorev1.NewNodeLister(nodes.indexer),
		namespaces: listerscorev1.NewNamespaceLister(namespaces.indexer),
	}
	return w, nil
}

func (w *Watcher) poke() {
	select {
	case w.changed <- struct{}{}:
	default: // a rebuild is already pending; it will see this change
	}
}

// Run watches the cluster until ctx ends. The index is replaced only once
// the caches of what labels flows have synced, then after each burst of
// changes. The policy caches are not waited for: a policy snapshot is
// published once they have synced too, so a ClusterRole without them
// leaves policies unreported (and their API errors counted), never flows
// unlabelled.
func (w *Watcher) Run(ctx context.Context) error {
	var reflectors sync.WaitGroup
	defer reflectors.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // before the Wait: the reflectors stop with ctx
	labelling := len(w.caches)
	if w.policies != nil {
		labelling = w.policies.firstCache
	}
	if c := w.addClusterPolicies(ctx); c != nil {
		w.caches = append(w.caches, c)
	}
	synced := make([]cache.InformerSynced, labelling)
	for i, c := range w.caches {
		reflectors.Go(func() { c.run(ctx) })
		if i < labelling {
			synced[i] = c.hasSynced
		}
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return nil // ctx ended first
	}
	w.rebuild()
	w.counts.synced.Store(true)
	w.log.Info("Kubernetes caches synced", "pods", w.store.Load().Pods, "services", w.store.Load().Services)
	w.notify("kubernetes_synced", fmt.Sprintf("%d pods, %d services", w.store.Load().Pods, w.store.Load().Services))
	var recheck <-chan time.Time
	if w.seeksClusterPolicies() {
		t := time.NewTicker(w.recheck)
		defer t.Stop()
		recheck = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-recheck:
			// A CRD installed since: its cache pokes a rebuild once
			// synced.
			if c := w.addClusterPolicies(ctx); c != nil {
				reflectors.Go(func() { c.run(ctx) })
				recheck = nil
			}
			continue
		case <-w.changed:
		}
		// Gather a burst of changes (a rollout, a node's pods) into one
		// rebuild.
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(w.debounce):
		}
		w.rebuild()
	}
}

func (w *Watcher) rebuild() {
	snap, err := w.listers.snapshot(w.cluster, w.node)
	if err == nil {
		w.publishNodeLabels(snap.nodeLabels)
		var ix *endpoints.Index
		if ix, err = endpoints.Build(w.tables, snap.pods, snap.services, snap.opts...); err == nil {
			if w.policies != nil {
				w.policies.build(&snap, ix, w.node)
			}
			w.store.Replace(ix)
			w.counts.rebuilds.Add(1)
			return
		}
	}
	w.counts.rebuildsFailed.Add(1)
	w.log.Warn("cannot rebuild the endpoint index; keeping the previous one", "err", err)
}

func (w *Watcher) publishNodeLabels(labels []string) {
	if w.nodeLabelsPublished && slices.Equal(labels, w.nodeLabels) {
		return
	}
	w.nodeLabels, w.nodeLabelsPublished = labels, true
	w.setNodeLabels(labels)
}
