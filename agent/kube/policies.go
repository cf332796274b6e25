package kube

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/agent/policy"
	"github.com/foveanet/fovea/model/intern"
)

// policyFeed builds the network policy snapshot beside each endpoint
// index, from the NetworkPolicy and (when their CRD is served)
// ClusterNetworkPolicy caches.
type policyFeed struct {
	store            *policy.Store
	netpols, cluster *resourceCache // cluster is nil without the CRD
	// firstCache is the index of the first policy cache in the
	// watcher's caches: those before it label flows.
	firstCache int
	log        *slog.Logger
	// compiled are the policies compiled so far, by kind, UID and
	// generation, so a rebuild compiles only what changed.
	compiled map[string]*policy.Policy
	// invalid are the policies that do not compile, logged once each;
	// invalidCount is their number, for scrapes.
	invalid      map[string]error
	invalidCount atomic.Int64
	// fingerprint and gen say when the policies or named ports changed.
	fingerprint uint64
	gen         uint64
}

// clusterPolicyGroupVersion is the API of the ClusterNetworkPolicies
// watched: v1alpha2, which network-policy-api v0.2.0 stores and v0.3.0
// still serves (beside v1beta1, with the same schema).
const clusterPolicyGroupVersion = "policy.networking.k8s.io/v1alpha2"

// newPolicyFeed adds the NetworkPolicy cache to the watcher's.
func (w *Watcher) newPolicyFeed(h cacheHooks, client kubernetes.Interface) *policyFeed {
	nw := client.NetworkingV1()
	netpols := newResourceCache(h, "networkpolicies", &networkingv1.NetworkPolicy{}, client, nw.NetworkPolicies("").List, nw.NetworkPolicies("").Watch)
	f := &policyFeed{store: w.policyStore, netpols: netpols, log: w.log, firstCache: len(w.caches)}
	w.caches = append(w.caches, netpols)
	w.hooks = h
	return f
}

// clusterPolicyCheckTimeout bounds each request asking whether the API
// server serves ClusterNetworkPolicies.
const clusterPolicyCheckTimeout = 10 * time.Second

// clusterPolicyRecheck is how often a watcher whose API server did not
// serve ClusterNetworkPolicies asks again, so a CRD installed later is
// watched: one discovery request a minute per agent while it is missing.
const clusterPolicyRecheck = time.Minute

// clusterPoliciesServed asks the API server whether it serves
// ClusterNetworkPolicies; an error that is not NotFound means it could not
// tell.
func (w *Watcher) clusterPoliciesServed(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, clusterPolicyCheckTimeout)
	defer cancel()
	err := w.client.Discovery().RESTClient().Get().AbsPath("/apis/" + clusterPolicyGroupVersion).Do(ctx).Error()
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// seeksClusterPolicies reports whether the watcher is to look for
// ClusterNetworkPolicies and has not found them yet.
func (w *Watcher) seeksClusterPolicies() bool {
	return w.policies != nil && w.clusterClient != nil && w.policies.cluster == nil
}

// addClusterPolicies returns a cache of ClusterNetworkPolicies, added to
// the policy feed, if the API server serves them now; nil if not (said
// once, in the log) or when not sought.
func (w *Watcher) addClusterPolicies(ctx context.Context) *resourceCache {
	if !w.seeksClusterPolicies() {
		return nil
	}
	served, err := w.served(ctx)
	switch {
	case err != nil:
		if !w.clusterPoliciesReported {
			w.log.Warn("ClusterNetworkPolicies not watched yet: cannot tell whether the API server serves them; asking again every minute",
				"api", clusterPolicyGroupVersion, "err", err)
		}
		w.clusterPoliciesReported = true
		return nil
	case !served:
		if !w.clusterPoliciesReported {
			w.log.Info("ClusterNetworkPolicies not watched: the API server does not serve them; asking again every minute",
				"api", clusterPolicyGroupVersion)
		}
		w.clusterPoliciesReported = true
		return nil
	}
	w.log.Info("watching ClusterNetworkPolicies", "api", clusterPolicyGroupVersion)
	cnps := w.clusterClient.PolicyV1alpha2().ClusterNetworkPolicies()
	c := newResourceCache(w.hooks, "clusternetworkpolicies", &npav1alpha2.ClusterNetworkPolicy{}, w.clusterClient, cnps.List, cnps.Watch)
	w.policies.cluster = c
	return c
}

// build makes the snapshot of the index ix was built from snap: the pods
// by their interned endpoints, each marked local when it runs on
// localNode (every pod is when the node is not known). Until the policy
// caches have synced it publishes nothing: a partial list of policies
// would name the wrong ones.
func (f *policyFeed) build(snap *snapshot, ix *endpoints.Index, localNode string) {
	if !f.netpols.hasSynced() || (f.cluster != nil && !f.cluster.hasSynced()) {
		return
	}
	var objs []any
	objs = append(objs, f.netpols.indexer.List()...)
	if f.cluster != nil {
		objs = append(objs, f.cluster.indexer.List()...)
	}
	compiled := make(map[string]*policy.Policy, len(objs))
	invalid := map[string]error{}
	var policies []*policy.Policy
	h := fnv.New64a()
	for _, o := range objs {
		key, p, err := f.compile(o)
		if err != nil {
			invalid[key] = err
			if f.invalid[key] == nil {
				f.log.Warn("network policy not evaluated", "policy", key, "err", err)
			}
			continue
		}
		compiled[key] = p
		policies = append(policies, p)
		h.Write([]byte(key))
		h.Write([]byte{0})
	}
	f.compiled, f.invalid = compiled, invalid
	f.invalidCount.Store(int64(len(invalid)))
	// Map order must not change the fingerprint.
	slices.SortFunc(policies, func(a, b *policy.Policy) int { return cmp.Compare(a.Key, b.Key) })
	pods := make(map[intern.Ref]*policy.Pod, len(snap.pods))
	for i := range snap.pods {
		p := &snap.pods[i]
		if len(p.IPs) == 0 {
			continue
		}
		ref := ix.Endpoint(p.IPs[0].Unmap())
		if ref == 0 {
			continue
		}
		pods[ref] = &policy.Pod{
			Namespace: p.Namespace, Name: p.Name, Labels: labels.Set(p.Labels), NamespaceLabels: labels.Set(p.NamespaceLabels),
			Ports: snap.namedPorts[p.Namespace+"/"+p.Name], Local: localNode == "" || p.Node == localNode,
		}
	}
	names := make([]string, 0, len(snap.namedPorts))
	for n := range snap.namedPorts {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		h.Write([]byte(n))
		for _, np := range snap.namedPorts[n] {
			h.Write([]byte(np.Name + "/" + strconv.Itoa(int(np.Port)) + "/" + strconv.Itoa(int(np.Proto))))
		}
	}
	if fp := h.Sum64(); fp != f.fingerprint || f.gen == 0 {
		f.fingerprint = fp
		f.gen++
	}
	f.store.Replace(policy.NewSnapshot(policies, pods, f.gen))
}

// compile returns a cached object's compiled policy and the key naming it.
func (f *policyFeed) compile(o any) (string, *policy.Policy, error) {
	switch p := o.(type) {
	case *networkingv1.NetworkPolicy:
		key := policy.KindNetworkPolicy + "/" + p.Namespace + "/" + p.Name + "/" + string(p.UID) + "@" + strconv.FormatInt(p.Generation, 10)
		if c := f.compiled[key]; c != nil {
			return key, c, nil
		}
		c, err := policy.CompileNetworkPolicy(p)
		return key, c, err
	case *npav1alpha2.ClusterNetworkPolicy:
		key := policy.KindClusterNetworkPolicy + "/" + p.Name + "/" + string(p.UID) + "@" + strconv.FormatInt(p.Generation, 10)
		if c := f.compiled[key]; c != nil {
			return key, c, nil
		}
		c, err := policy.CompileClusterNetworkPolicy(p)
		return key, c, err
	}
	return fmt.Sprintf("%T", o), nil, fmt.Errorf("not a policy: %T", o)
}
