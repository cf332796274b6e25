package kube

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/agent/policy"
	"github.com/foveanet/fovea/api/kubeclient"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

func pod(ns, name, ip string, mods ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name, Labels: map[string]string{"app": "web", "pod-template-hash": "5d9c7"},
			Annotations: map[string]string{"big": "annotation"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5d9c7", Controller: new(true),
			}},
			CreationTimestamp: metav1.Now(),
		},
		Spec:   corev1.PodSpec{NodeName: "node1", ServiceAccountName: "web-sa", Containers: []corev1.Container{{Name: "c", Image: "x"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}},
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

type fixture struct {
	reg        *prometheus.Registry
	client     *fake.Clientset
	tables     *intern.Tables
	store      *endpoints.Store
	w          *Watcher
	mu         sync.Mutex
	events     []string
	nodeLabels [][]string
}

func start(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{client: fake.NewClientset(objs...), tables: intern.NewTables(), store: endpoints.NewStore()}
	return f.run(t)
}

func (f *fixture) run(t *testing.T) *fixture {
	t.Helper()
	notify := func(ev, _ string) { f.mu.Lock(); f.events = append(f.events, ev); f.mu.Unlock() }
	health := kubeclient.NewAPIHealth(nil, notify)
	w, err := New(f.client, "c1", f.tables, f.store, WithLocalNode("node1"),
		WithHealth(health), WithDebounce(time.Millisecond), WithNotify(notify),
		WithNodeLabels(func(l []string) { f.mu.Lock(); f.nodeLabels = append(f.nodeLabels, l); f.mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	f.reg = prometheus.NewPedanticRegistry()
	f.reg.MustRegister(w.Collector(), health.Collector())
	f.w = w
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return f
}

func (f *fixture) podAt(ip string) string {
	ep := f.tables.Endpoints.Get(f.store.Load().Endpoint(netip.MustParseAddr(ip)))
	if ep == nil {
		return ""
	}
	return ep.GetNamespace() + "/" + ep.GetPodName()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWatcherIndexesPodsAndServices(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "demo", Labels: map[string]string{"team": "a"}}}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node1"},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "172.30.0.1"}}}}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "web"},
		Spec: corev1.ServiceSpec{ClusterIPs: []string{"10.96.0.10"}, Ports: []corev1.ServicePort{
			{Port: 80, Protocol: corev1.ProtocolTCP, NodePort: 30080},
		}}}
	node2 := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node2"},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "172.30.0.2"}}}}
	f := start(t, ns, node, node2, svc, pod("demo", "web-5d9c7-abcde", "10.244.1.11"),
		pod("demo", "hostnet", "172.30.0.1", func(p *corev1.Pod) { p.Spec.HostNetwork = true }),
		pod("demo", "done", "10.244.1.12", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }))
	waitFor(t, "the pod", func() bool { return f.podAt("10.244.1.11") != "" })

	ep := f.tables.Endpoints.Get(f.store.Load().Endpoint(netip.MustParseAddr("10.244.1.11")))
	if ep.GetPodName() != "web-5d9c7-abcde" || ep.GetClusterName() != "c1" {
		t.Errorf("endpoint = %v", ep)
	}
	if w := ep.GetWorkloads(); len(w) != 1 || w[0].GetKind() != "Deployment" || w[0].GetName() != "web" {
		t.Errorf("workloads = %v", w)
	}
	for _, l := range []string{"k8s:app=web", "k8s:io.cilium.k8s.namespace.labels.team=a", "k8s:io.cilium.k8s.policy.serviceaccount=web-sa"} {
		if !slices.Contains(ep.GetLabels(), l) {
			t.Errorf("labels %v lack %s", ep.GetLabels(), l)
		}
	}
	if f.podAt("172.30.0.1") != "" || f.podAt("10.244.1.12") != "" {
		t.Error("a host-network or finished pod owns an address")
	}
	ix := f.store.Load()
	if ep := f.tables.Endpoints.Get(ix.Endpoint(netip.MustParseAddr("172.30.0.2"))); ep.GetIdentity() != endpoints.IdentityRemoteNode {
		t.Errorf("the other node's address is %v, want reserved:remote-node", ep)
	}
	if ref := ix.Endpoint(netip.MustParseAddr("172.30.0.1")); ref != 0 {
		t.Errorf("the local node's address got %v; the reserved enricher names it host", f.tables.Endpoints.Get(ref))
	}
	for _, fe := range []string{"10.96.0.10:80", "172.30.0.1:30080", "172.30.0.2:30080"} {
		ap := netip.MustParseAddrPort(fe)
		if _, s := ix.Lookup(ap.Addr(), ap.Port(), record.ProtoTCP); f.tables.Services.Get(s).GetName() != "web" {
			t.Errorf("frontend %s has no service", fe)
		}
	}
	if gathered(t, f.reg, "kubernetes_synced") != 1 {
		t.Error("synced metric is not 1")
	}
	f.mu.Lock()
	if !slices.Contains(f.events, "kubernetes_synced") {
		t.Errorf("events = %v", f.events)
	}
	f.mu.Unlock()
}

func TestWatcherIPReuse(t *testing.T) {
	f := start(t, pod("demo", "old", "10.244.1.11"))
	waitFor(t, "the old pod", func() bool { return f.podAt("10.244.1.11") == "demo/old" })
	oldRef := f.store.Load().Endpoint(netip.MustParseAddr("10.244.1.11"))

	ctx := context.Background()
	// The new pod gets the address while the old one is still terminating:
	// the address is the new pod's at once.
	old, _ := f.client.CoreV1().Pods("demo").Get(ctx, "old", metav1.GetOptions{})
	old.DeletionTimestamp = new(metav1.Now())
	if _, err := f.client.CoreV1().Pods("demo").Update(ctx, old, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.CoreV1().Pods("demo").Create(ctx, pod("demo", "new", "10.244.1.11"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new pod", func() bool { return f.podAt("10.244.1.11") == "demo/new" })
	if err := f.client.CoreV1().Pods("demo").Delete(ctx, "old", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.client.CoreV1().Pods("demo").Delete(ctx, "new", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the address to be free", func() bool { return f.podAt("10.244.1.11") == "" })
	if f.tables.Endpoints.Get(oldRef).GetPodName() != "old" {
		t.Error("the old pod's interned endpoint changed")
	}
}

func TestWatcherBeforeSyncAndAPIErrors(t *testing.T) {
	f := &fixture{client: fake.NewClientset(pod("demo", "a", "10.244.1.11")), tables: intern.NewTables(), store: endpoints.NewStore()}
	var failing atomic.Bool
	failing.Store(true)
	f.client.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if failing.Load() {
			return true, nil, errors.New("apiserver unavailable")
		}
		return false, nil, nil
	})
	f.run(t)
	waitFor(t, "a watch error", func() bool {
		return gathered(t, f.reg, "kubernetes_api_errors_total", "pods") > 0
	})
	if f.store.Load() != endpoints.Empty || gathered(t, f.reg, "kubernetes_synced") != 0 {
		t.Fatal("the index changed before the caches synced")
	}
	f.mu.Lock()
	if !slices.Contains(f.events, "kubernetes_api_error") {
		t.Errorf("events = %v", f.events)
	}
	f.mu.Unlock()
	failing.Store(false)
	waitFor(t, "recovery", func() bool { return f.podAt("10.244.1.11") == "demo/a" })
}

func TestTrim(t *testing.T) {
	trim := trimmer("node1", true)
	withPorts := func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}, {Type: corev1.PodScheduled}}
		p.OwnerReferences = append(p.OwnerReferences, metav1.OwnerReference{Kind: "Other", Name: "x"})
		p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}
	}
	out, err := trim(pod("demo", "local", "10.0.0.1", withPorts))
	if err != nil {
		t.Fatal(err)
	}
	p := out.(*corev1.Pod)
	if p.ManagedFields != nil || p.Status.PodIP != "10.0.0.1" || p.Labels["app"] != "web" ||
		p.Spec.ServiceAccountName != "web-sa" || len(p.OwnerReferences) != 2 || workloadOf(p).Name != "web" {
		t.Errorf("local pod = %+v, want it whole but for managed fields", p)
	}
	if c := p.Spec.Containers; len(c) != 1 || len(c[0].Ports) != 1 || c[0].Ports[0].Name != "http" || len(p.Status.Conditions) != 2 {
		t.Errorf("local pod containers %+v and conditions %+v, want them whole", c, p.Status.Conditions)
	}

	out, _ = trim(pod("demo", "remote", "10.0.1.1", withPorts, func(p *corev1.Pod) { p.Spec.NodeName = "node2" }))
	p = out.(*corev1.Pod)
	// Of its containers, a remote pod keeps the named ports only, which
	// network policies may name.
	wantPorts := []corev1.Container{{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}
	if !reflect.DeepEqual(p.Spec.Containers, wantPorts) || p.Status.Conditions != nil || p.Status.PodIP != "" || podAddrs(p)[0] != netip.MustParseAddr("10.0.1.1") ||
		p.Spec.NodeName != "node2" || p.Spec.ServiceAccountName != "web-sa" || workloadOf(p).Kind != "Deployment" ||
		p.CreationTimestamp.IsZero() || p.Status.Phase != corev1.PodRunning {
		t.Errorf("trimmed remote pod = %+v", p)
	}
	withoutPolicies := trimmer("node1", false)
	out, _ = withoutPolicies(pod("demo", "remote", "10.0.1.1", withPorts, func(p *corev1.Pod) { p.Spec.NodeName = "node2" }))
	if c := out.(*corev1.Pod).Spec.Containers; len(c) != 0 {
		t.Errorf("without network policies a remote pod kept containers %+v", c)
	}
	out, _ = trim(pod("demo", "remote-hostnet", "172.30.0.2", func(p *corev1.Pod) { p.Spec.NodeName, p.Spec.HostNetwork = "node2", true }))
	if p = out.(*corev1.Pod); len(podAddrs(p)) != 0 {
		t.Errorf("a remote host-network pod kept its node's addresses %v", podAddrs(p))
	}

	out, _ = trim(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", Labels: map[string]string{"zone": "a"}, Annotations: map[string]string{"a": "b"}},
		Status: corev1.NodeStatus{Images: []corev1.ContainerImage{{Names: []string{"x"}}}, Addresses: []corev1.NodeAddress{{Address: "172.30.0.1"}}}})
	if n := out.(*corev1.Node); n.Annotations != nil || n.Status.Images != nil || n.Labels["zone"] != "a" || len(n.Status.Addresses) != 1 {
		t.Errorf("trimmed node = %+v", n)
	}
	out, _ = trim(slice("demo", "web", "10.0.0.1", func(s *discoveryv1.EndpointSlice) {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{"10.0.0.2"},
			Conditions: discoveryv1.EndpointConditions{Ready: new(false), Serving: new(false)}})
		s.Endpoints[0].TargetRef = &corev1.ObjectReference{Kind: "Pod", Name: "a"}
	}))
	if s := out.(*discoveryv1.EndpointSlice); len(s.Endpoints) != 1 || s.Endpoints[0].TargetRef != nil || len(s.Labels) != 1 || s.Ports[0].Name != nil {
		t.Errorf("trimmed slice = %+v", s)
	}
	svc, _ := trim(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"a": "b"}}})
	if svc.(*corev1.Service).Annotations != nil {
		t.Error("service annotations kept")
	}

	// client-go may pass objects already in the cache to the transform
	// again (Replace), so trimming twice must change nothing.
	for _, obj := range []runtime.Object{
		pod("demo", "local", "10.0.0.1", withPorts),
		pod("demo", "remote", "10.0.1.1", func(p *corev1.Pod) { p.Spec.NodeName, p.Spec.HostNetwork = "node2", true }),
		slice("demo", "web", "10.0.0.1"),
	} {
		once, _ := trim(obj)
		twice, _ := trim(once)
		if !equality.Semantic.DeepEqual(once, twice) {
			t.Errorf("trimming %T twice: %+v, once: %+v", obj, twice, once)
		}
	}
}

// slice returns the EndpointSlice of service ns/svc with one ready
// endpoint at addr, on port 8080/TCP.
func slice(ns, svc, addr string, mods ...func(*discoveryv1.EndpointSlice)) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: svc + "-abcde", Labels: map[string]string{
			discoveryv1.LabelServiceName: svc, discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: new(true)},
			NodeName: new("node2")}},
		Ports: []discoveryv1.EndpointPort{{Name: new("http"), Port: new(int32(8080)), Protocol: new(corev1.ProtocolTCP)}},
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

func TestWorkloadOf(t *testing.T) {
	owned := func(kind, name string, labels map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{Kind: kind, Name: name, Controller: new(true)}}}}
	}
	for _, c := range []struct {
		pod  *corev1.Pod
		want endpoints.Workload
	}{
		{owned("ReplicaSet", "web-5d9c7", map[string]string{"pod-template-hash": "5d9c7"}), endpoints.Workload{Kind: "Deployment", Name: "web"}},
		{owned("ReplicaSet", "bare-rs", nil), endpoints.Workload{Kind: "ReplicaSet", Name: "bare-rs"}},
		{owned("StatefulSet", "db", nil), endpoints.Workload{Kind: "StatefulSet", Name: "db"}},
		{owned("DaemonSet", "agent", nil), endpoints.Workload{Kind: "DaemonSet", Name: "agent"}},
		{owned("Job", "backup-29000000", nil), endpoints.Workload{Kind: "CronJob", Name: "backup"}},
		{owned("Job", "migrate", nil), endpoints.Workload{Kind: "Job", Name: "migrate"}},
		{&corev1.Pod{}, endpoints.Workload{}},
	} {
		if got := workloadOf(c.pod); got != c.want {
			t.Errorf("workloadOf(%v) = %v, want %v", c.pod.OwnerReferences, got, c.want)
		}
	}
}

// BenchmarkInformerMemory reports the heap the watcher adds (informer
// caches of trimmed objects plus the index) for 10k pods on 100 nodes
// (100 of them on the agent's node, kept fuller) and 1k services with an
// EndpointSlice of 10 backends each, over the fake clientset's own copy of
// them; with policies, 1k NetworkPolicies and the policy snapshot too.
func BenchmarkInformerMemory(b *testing.B) {
	for _, policies := range []int{0, 1_000} {
		b.Run("policies="+strconv.Itoa(policies), func(b *testing.B) { benchmarkInformerMemory(b, policies) })
	}
}

func benchmarkInformerMemory(b *testing.B, policies int) {
	for b.Loop() {
		objs := make([]runtime.Object, 0, 12_100)
		addr := func(a, b byte, i int) string { return netip.AddrFrom4([4]byte{10, a, byte(i >> 8), byte(i)}).String() }
		for i := range 100 {
			objs = append(objs, node("node"+strconv.Itoa(i), netip.AddrFrom4([4]byte{172, 30, 0, byte(i)}).String(),
				map[string]string{"kubernetes.io/hostname": "node" + strconv.Itoa(i), "topology.kubernetes.io/zone": "z" + strconv.Itoa(i%3)}))
		}
		for i := range 10_000 {
			objs = append(objs, pod("ns"+strconv.Itoa(i%50), "pod-"+strconv.Itoa(i), addr(244, 0, i), func(p *corev1.Pod) {
				p.Spec.NodeName = "node" + strconv.Itoa(i%100)
				p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
			}))
		}
		for i := range 1_000 {
			name := "svc-" + strconv.Itoa(i)
			objs = append(objs, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
				Spec: corev1.ServiceSpec{ClusterIPs: []string{addr(96, 0, i)}, Ports: []corev1.ServicePort{{Port: 80}}}},
				slice("ns", name, addr(244, 0, i*10), func(s *discoveryv1.EndpointSlice) {
					for j := 1; j < 10; j++ {
						s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{addr(244, 0, i*10+j)},
							Conditions: discoveryv1.EndpointConditions{Ready: new(true)}, NodeName: new("node" + strconv.Itoa(j))})
					}
				}))
		}
		for i := range policies {
			objs = append(objs, &networkingv1.NetworkPolicy{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns" + strconv.Itoa(i%50), Name: "np-" + strconv.Itoa(i)},
				Spec: networkingv1.NetworkPolicySpec{
					PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
					Ingress: []networkingv1.NetworkPolicyIngressRule{{
						From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "client"}}}},
					}},
				},
			})
		}
		client := fake.NewClientset(objs...)
		before := heap()
		tables, store, policyStore := intern.NewTables(), endpoints.NewStore(), policy.NewStore()
		opts := []Option{WithLocalNode("node0")}
		if policies > 0 {
			opts = append(opts, WithPolicies(policyStore))
		}
		w, err := New(client, "c", tables, store, opts...)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = w.Run(ctx); close(done) }()
		for store.Load().Pods < 10_000 || store.Load().Services < 1_000 || policyStore.Load().Policies[policy.KindNetworkPolicy] < policies {
			time.Sleep(10 * time.Millisecond)
		}
		b.ReportMetric(float64(heap()-before)/(1<<20), "MiB")
		goruntime.KeepAlive(client)
		cancel()
		<-done
	}
}

func heap() uint64 {
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestAPIServerDown points a watcher at a server that answers 503: the
// errors are counted and reported through the transport, and the index
// stays empty rather than partial. When the server answers again, the end
// of the outage is reported once.
func TestAPIServerDown(t *testing.T) {
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if up.Load() {
			http.NotFound(w, nil) // answered: reachable, if not useful
			return
		}
		http.Error(w, "etcd is sad", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"" + srv.URL + "\"}}]\n" +
		"users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var events, recoveries atomic.Int32
	notify := func(ev, _ string) {
		switch ev {
		case "kubernetes_api_error":
			events.Add(1)
		case "kubernetes_api_recovered":
			recoveries.Add(1)
		}
	}
	health := kubeclient.NewAPIHealth(nil, notify)
	client, err := kubeclient.New(kubeconfig, "fovea-test", health)
	if err != nil {
		t.Fatal(err)
	}
	store := endpoints.NewStore()
	w, err := New(client, "c", intern.NewTables(), store, WithHealth(health), WithNotify(notify))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(w.Collector(), health.Collector())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	waitFor(t, "API errors", func() bool { return gathered(t, reg, "kubernetes_api_errors_total", "request") >= 4 })
	if got := gathered(t, reg, "kubernetes_api_reachable"); got != 0 {
		t.Errorf("kubernetes_api_reachable = %v while requests fail, want 0", got)
	}
	if recoveries.Load() != 0 {
		t.Error("a recovery was reported while requests fail")
	}
	up.Store(true)
	// A request sent before the switch may still fail after another was
	// answered: that is a new, short outage, so wait for the gauge too.
	waitFor(t, "the recovery", func() bool {
		return recoveries.Load() > 0 && gathered(t, reg, "kubernetes_api_reachable") == 1
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if events.Load() != 1 {
		t.Errorf("%d error events, want 1 (reports are throttled)", events.Load())
	}
	if store.Load() != endpoints.Empty || gathered(t, reg, "kubernetes_synced") != 0 {
		t.Error("the index changed without a sync")
	}
}

func node(name, addr string, labels map[string]string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: addr}}}}
}

// TestWatcherEndpointSlices checks backend attribution from EndpointSlices
// (frontends first, terminating backends that still serve included) and
// the kube-apiserver's reserved endpoints.
func TestWatcherEndpointSlices(t *testing.T) {
	web := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "web"},
		Spec: corev1.ServiceSpec{ClusterIPs: []string{"10.96.0.10"}, Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}}}
	kubernetes := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kubernetes"},
		Spec: corev1.ServiceSpec{ClusterIPs: []string{"10.96.0.1"}, Ports: []corev1.ServicePort{{Port: 443, Protocol: corev1.ProtocolTCP}}}}
	f := start(t, node("node1", "172.30.0.1", nil), node("node2", "172.30.0.2", nil), web, kubernetes,
		pod("demo", "web-1", "10.244.2.11"),
		slice("demo", "web", "10.244.2.11", func(s *discoveryv1.EndpointSlice) {
			s.Endpoints = append(s.Endpoints,
				discoveryv1.Endpoint{Addresses: []string{"10.244.2.12"}, Conditions: discoveryv1.EndpointConditions{
					Ready: new(false), Serving: new(true), Terminating: new(true)}},
				discoveryv1.Endpoint{Addresses: []string{"10.244.2.13"}, Conditions: discoveryv1.EndpointConditions{Ready: new(false)}})
		}),
		slice("demo", "orphan", "10.244.2.14"),
		slice("default", "kubernetes", "172.30.0.2", func(s *discoveryv1.EndpointSlice) {
			s.Ports[0].Port = new(int32(6443))
		}))
	waitFor(t, "the index", func() bool { return f.podAt("10.244.2.11") != "" })
	ix := f.store.Load()
	for _, c := range []struct {
		ap   string
		want string
	}{
		{"10.96.0.10:80", "web"},
		{"10.244.2.11:8080", "web"},
		{"10.244.2.12:8080", "web"},
		{"10.244.2.13:8080", ""},
		{"10.244.2.11:9090", ""},
		{"10.244.2.14:8080", ""}, // a slice without its Service
		{"172.30.0.2:6443", "kubernetes"},
	} {
		ap := netip.MustParseAddrPort(c.ap)
		_, svc := ix.Lookup(ap.Addr(), ap.Port(), record.ProtoTCP)
		if got := f.tables.Services.Get(svc).GetName(); got != c.want {
			t.Errorf("service of %s = %q, want %q", c.ap, got, c.want)
		}
	}
	for addr, want := range map[string][]string{
		"172.30.0.2": {endpoints.LabelKubeAPIServer, endpoints.LabelRemoteNode},
		"10.96.0.1":  {endpoints.LabelKubeAPIServer, endpoints.LabelWorld},
	} {
		ep := f.tables.Endpoints.Get(ix.Endpoint(netip.MustParseAddr(addr)))
		if ep.GetIdentity() != endpoints.IdentityKubeAPIServer || !slices.Equal(ep.GetLabels(), want) {
			t.Errorf("%s = %v, want identity 7 with %v", addr, ep, want)
		}
	}

	// The apiserver moves to the local node: the host, with both labels.
	ctx := context.Background()
	s, err := f.client.DiscoveryV1().EndpointSlices("default").Get(ctx, "kubernetes-abcde", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Endpoints[0].Addresses = []string{"172.30.0.1"}
	if _, err := f.client.DiscoveryV1().EndpointSlices("default").Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the apiserver on the local node", func() bool {
		ep := f.tables.Endpoints.Get(f.store.Load().Endpoint(netip.MustParseAddr("172.30.0.1")))
		return ep.GetIdentity() == endpoints.IdentityHost && slices.Equal(ep.GetLabels(), []string{endpoints.LabelHost, endpoints.LabelKubeAPIServer})
	})
	if ep := f.tables.Endpoints.Get(f.store.Load().Endpoint(netip.MustParseAddr("172.30.0.2"))); ep.GetIdentity() != endpoints.IdentityRemoteNode {
		t.Errorf("the apiserver's old node = %v, want reserved:remote-node", ep)
	}
}

func TestWatcherNodeLabels(t *testing.T) {
	f := start(t, node("node1", "172.30.0.1", map[string]string{"zone": "a", "kubernetes.io/arch": "amd64"}),
		node("node2", "172.30.0.2", map[string]string{"zone": "b"}))
	last := func() []string {
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.nodeLabels) == 0 {
			return nil
		}
		return f.nodeLabels[len(f.nodeLabels)-1]
	}
	waitFor(t, "the node's labels", func() bool { return slices.Equal(last(), []string{"kubernetes.io/arch=amd64", "zone=a"}) })

	ctx := context.Background()
	n, err := f.client.CoreV1().Nodes().Get(ctx, "node1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Labels["zone"] = "c"
	if _, err := f.client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the node's new labels", func() bool { return slices.Equal(last(), []string{"kubernetes.io/arch=amd64", "zone=c"}) })

	// Changes elsewhere republish nothing.
	f.mu.Lock()
	published := len(f.nodeLabels)
	f.mu.Unlock()
	if _, err := f.client.CoreV1().Pods("demo").Create(ctx, pod("demo", "a", "10.244.1.11"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pod", func() bool { return f.podAt("10.244.1.11") != "" })
	f.mu.Lock()
	if len(f.nodeLabels) != published {
		t.Errorf("labels published %d times, want %d", len(f.nodeLabels), published)
	}
	f.mu.Unlock()
}

// gathered is the value of the series of metric name in reg whose label
// values are values, or -1 if there is none.
func gathered(t *testing.T, reg prometheus.Gatherer, name string, values ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(values) {
				continue
			}
			match := true
			for i, l := range m.GetLabel() {
				match = match && l.GetValue() == values[i]
			}
			if match {
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

// TestWatcherObservedPods: Retina's annotation on a pod (on this node or
// another, whose trimmed pods keep it) or on its namespace selects it.
func TestWatcherObservedPods(t *testing.T) {
	observe := map[string]string{endpoints.ObserveAnnotation: endpoints.ObserveValue}
	watched := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "watched", Annotations: observe}}
	annotated := func(p *corev1.Pod) { p.Annotations = observe }
	remote := func(p *corev1.Pod) { p.Spec.NodeName = "node2" }
	f := start(t, watched, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "demo"}},
		pod("watched", "a", "10.244.1.21"), pod("demo", "b", "10.244.1.22", annotated),
		pod("demo", "c", "10.244.2.23", annotated, remote), pod("demo", "d", "10.244.1.24"))
	waitFor(t, "the pods", func() bool { return f.podAt("10.244.1.24") != "" })
	ix := f.store.Load()
	for name, want := range map[string]bool{"watched/a": true, "demo/b": true, "demo/c": true, "demo/d": false} {
		ns, pod, _ := strings.Cut(name, "/")
		if got := ix.Observed(ns, pod); got != want {
			t.Errorf("%s observed %v, want %v", name, got, want)
		}
	}
}
