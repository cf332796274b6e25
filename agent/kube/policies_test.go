package kube

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	npfake "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned/fake"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/agent/policy"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// TestWatcherPublishesPolicySnapshots follows a NetworkPolicy and the pods
// it selects through the caches into the snapshot the policy stage reads:
// created, edited, deleted, and a pod relabelled into its selector.
func TestWatcherPublishesPolicySnapshots(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "demo", Labels: map[string]string{"team": "a"}}}
	server := pod("demo", "server", "10.244.1.10", func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
	})
	client := pod("demo", "client", "10.244.2.20", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "other"}; p.Spec.NodeName = "node2" })
	cs := fake.NewClientset(ns, server, client)
	_, store, policies := runPolicyWatcher(t, cs)

	serverAddr, clientAddr := netip.MustParseAddr("10.244.1.10"), netip.MustParseAddr("10.244.2.20")
	// decide evaluates a connection from the client to the server's named
	// port, with the refs of the current index as records would carry.
	decide := func() (policy.Result, bool) {
		ix, snap := store.Load(), policies.Load()
		srv, cli := snap.Pod(ix.Endpoint(serverAddr)), snap.Pod(ix.Endpoint(clientAddr))
		if srv == nil || cli == nil {
			return policy.Result{}, false
		}
		return snap.Evaluate(&policy.Conn{Dir: policy.Ingress, Local: srv, Peer: cli, PeerAddr: clientAddr, Port: 8080, Proto: record.ProtoTCP}), true
	}
	waitOutcome := func(what string, want policy.Outcome) {
		t.Helper()
		waitFor(t, what, func() bool { r, ok := decide(); return ok && r.Outcome == want })
	}
	waitOutcome("the pods without policies", policy.NotIsolated)
	if snap := policies.Load(); !snap.Pod(store.Load().Endpoint(serverAddr)).Local || snap.Pod(store.Load().Endpoint(clientAddr)).Local {
		t.Error("the server (node1) should be local and the client (node2) not")
	}

	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "allow-client", Generation: 1},
		Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "client"}}}},
			}},
		},
	}
	ctx := t.Context()
	nw := cs.NetworkingV1().NetworkPolicies("demo")
	if _, err := nw.Create(ctx, np, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitOutcome("the policy created", policy.Denied)

	client.Labels = map[string]string{"app": "client"}
	if _, err := cs.CoreV1().Pods("demo").Update(ctx, client, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitOutcome("the client relabelled into the selector", policy.Allowed)

	np.Generation = 2
	np.Spec.Ingress[0].Ports = []networkingv1.NetworkPolicyPort{{Port: new(intstr.FromString("metrics"))}}
	if _, err := nw.Update(ctx, np, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitOutcome("the policy edited to another named port", policy.Denied)

	if err := nw.Delete(ctx, np.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitOutcome("the policy deleted", policy.NotIsolated)
}

// TestWatcherLabelsFlowsWithoutPolicyAccess: a ClusterRole without
// NetworkPolicies (an older chart's) leaves policies unreported, never
// flows unlabelled.
func TestWatcherLabelsFlowsWithoutPolicyAccess(t *testing.T) {
	cs := fake.NewClientset(pod("demo", "a", "10.244.1.11"))
	cs.PrependReactor("list", "networkpolicies", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(networkingv1.Resource("networkpolicies"), "", errors.New("no RBAC"))
	})
	tables, store, policies := runPolicyWatcher(t, cs)
	waitFor(t, "the pod labelled", func() bool {
		return tables.Endpoints.Get(store.Load().Endpoint(netip.MustParseAddr("10.244.1.11"))).GetPodName() == "a"
	})
	if policies.Load() != policy.Empty {
		t.Error("a policy snapshot was published without the policies")
	}
}

// TestWatcherFindsClusterPoliciesInstalledLater: the API server does not
// serve ClusterNetworkPolicies at start, then does (their CRD installed):
// the watcher asks again and evaluates them.
func TestWatcherFindsClusterPoliciesInstalledLater(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "demo", Labels: map[string]string{"kubernetes.io/metadata.name": "demo"}}}
	cs := fake.NewClientset(ns, pod("demo", "a", "10.244.1.11"))
	cnp := &npav1alpha2.ClusterNetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-all", Generation: 1},
		Spec: npav1alpha2.ClusterNetworkPolicySpec{
			Tier: npav1alpha2.AdminTier, Priority: 1,
			Subject: npav1alpha2.ClusterNetworkPolicySubject{Namespaces: &metav1.LabelSelector{}},
			Ingress: []npav1alpha2.ClusterNetworkPolicyIngressRule{{
				Action: npav1alpha2.ClusterNetworkPolicyRuleActionDeny,
				From:   []npav1alpha2.ClusterNetworkPolicyIngressPeer{{Namespaces: &metav1.LabelSelector{}}},
			}},
		},
	}
	tables, store, policies := intern.NewTables(), endpoints.NewStore(), policy.NewStore()
	w, err := New(cs, "c1", tables, store, WithLocalNode("node1"), WithDebounce(time.Millisecond),
		WithPolicies(policies), WithClusterPolicies(npfake.NewClientset(cnp)))
	if err != nil {
		t.Fatal(err)
	}
	var installed atomic.Bool
	w.served = func(context.Context) (bool, error) { return installed.Load(), nil }
	w.recheck = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "a snapshot without cluster policies", func() bool { return policies.Load() != policy.Empty })
	if n := policies.Load().Policies[policy.KindClusterNetworkPolicy]; n != 0 {
		t.Fatalf("%d cluster policies before their CRD is served", n)
	}
	installed.Store(true)
	waitFor(t, "the cluster policy", func() bool { return policies.Load().Policies[policy.KindClusterNetworkPolicy] == 1 })
}

// runPolicyWatcher runs a watcher of cs on node1 that publishes policy
// snapshots, until the test ends.
func runPolicyWatcher(t *testing.T, cs *fake.Clientset) (*intern.Tables, *endpoints.Store, *policy.Store) {
	t.Helper()
	tables, store, policies := intern.NewTables(), endpoints.NewStore(), policy.NewStore()
	w, err := New(cs, "c1", tables, store, WithLocalNode("node1"), WithDebounce(time.Millisecond), WithPolicies(policies))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return tables, store, policies
}
