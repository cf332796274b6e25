//go:build linux

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/kube"
	"github.com/foveanet/fovea/test/traffic"
)

// kubePrefix keeps this file's clusters apart from the shared one; other
// files' tests pass their own, so that runs of different files can overlap.
const kubePrefix = "foveakube-"

// kubeEnv is a netns cluster described to a real kube-apiserver, whose
// agents read it with a token bound to the Helm chart's ClusterRole.
type kubeEnv struct {
	*env
	api *kube.ControlPlane
}

// setupKube builds the cluster (its interfaces and namespaces named with
// prefix), the control plane and the agents, all stopped when t ends.
func setupKube(t *testing.T, prefix string) *kubeEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: builds network namespaces and loads eBPF programs")
	}
	fovea, hubble := os.Getenv("FOVEA_BIN"), os.Getenv("HUBBLE_BIN")
	if fovea == "" || hubble == "" {
		t.Fatal("FOVEA_BIN or HUBBLE_BIN is not set: run the end-to-end tests with `make e2e`")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := cluster.Cleanup(ctx, prefix, log); err != nil {
		t.Fatalf("clean up an earlier run: %v", err)
	}
	stateDir := t.TempDir()
	c, err := cluster.Build(ctx, cluster.Config{Prefix: prefix, Nodes: 2, PodsPerNode: 2, StateDir: stateDir, Logger: log})
	if err != nil {
		t.Fatalf("build cluster: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Errorf("close cluster: %v", err)
		}
	})

	// The agents run in the nodes' namespaces, which reach the fabric's
	// gateway address but not our loopback: the control plane runs in
	// the fabric namespace on that address, and we dial it from there.
	fabric := c.Topology.Fabric
	apiDir := filepath.Join(stateDir, "kube")
	if err := os.MkdirAll(apiDir, 0o755); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	api, err := kube.Start(ctx, kube.Config{
		Dir: apiDir, Address: cluster.GatewayV4, Netns: fabric, Dial: kube.NetnsDialer(fabric), Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	t.Logf("control plane ready in %v", time.Since(began).Round(time.Millisecond))
	if err := kube.Describe(ctx, api.Admin, c.Topology); err != nil {
		t.Fatal(err)
	}

	role, err := kube.ReadClusterRole("../../helm/fovea/templates/clusterrole.yaml")
	if err != nil {
		t.Fatal(err)
	}
	token, err := kube.BindServiceAccount(ctx, api.Admin, role, "kube-system", "fovea")
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(stateDir, "kubeconfig")
	if err := kube.WriteKubeconfig(kubeconfig, api.Host, api.CA, token); err != nil {
		t.Fatal(err)
	}

	life, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	sockets, err := demo.StartAgents(life, c, fovea, ringCapacity, demo.WithKubeconfig(kubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	e := &kubeEnv{env: &env{cluster: c, sockets: map[string]string{}, hosts: c.Hosts(), fovea: fovea, hubbleBin: hubble, stop: stop}, api: api}
	for i, n := range c.Topology.Nodes {
		e.sockets[n.Name] = sockets[i]
	}
	t.Cleanup(func() {
		if t.Failed() {
			dumpLogs(e.env)
		}
	})
	for _, h := range e.hosts {
		if _, err := traffic.Serve(life, h, log); err != nil {
			t.Fatalf("serve on %s: %v", h.Name, err)
		}
	}
	return e
}

// request connects src to dst until the flow of a connection, as the agent
// at sock reports it, satisfies ok; it returns that flow and connection.
func (e *kubeEnv) request(t *testing.T, ctx context.Context, sock string, src, dst traffic.Host, ok func(*flowpb.Flow) error) (*flowpb.Flow, traffic.Conn) {
	t.Helper()
	var (
		req *flowpb.Flow
		c   traffic.Conn
	)
	eventually(t, 30*time.Second, func() error {
		var err error
		if c, err = traffic.TCPShort(ctx, src, dst, traffic.IPv4); err != nil {
			return err
		}
		for range 10 {
			requests, _ := connFlows(c, e.observeJSON(t, sock, "--last", "100000", "--port", strconv.Itoa(int(c.Src.Port))))
			if len(requests) > 0 {
				req = requests[0]
				return ok(req)
			}
			time.Sleep(100 * time.Millisecond)
		}
		return fmt.Errorf("%s: no request flow of %v", sock, c)
	})
	return req, c
}

// TestKubernetesEnrichment checks with the real hubble CLI that agents
// reading a real kube-apiserver, with only the chart's ClusterRole, label
// both ends of a cross-node flow on both nodes (a remote node's pod
// included), attribute a service, and that hubble's filters find them.
func TestKubernetesEnrichment(t *testing.T) {
	e := setupKube(t, kubePrefix)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	src, srcSock := e.pod(0)
	dst, dstSock := e.pod(2)
	srcPod, _ := e.cluster.Topology.Pod(src.Name)
	dstPod, _ := e.cluster.Topology.Pod(dst.Name)

	// No kube-proxy forwards cluster IPs here, so the service's frontend
	// is a load-balancer address the destination pod holds itself, as
	// with direct server return.
	svc := createLoadBalancer(t, ctx, e.api, dstPod.Namespace, "front-"+dstPod.Labels["app"], dstPod.IPv4, traffic.TCPPort)

	for _, sock := range uniq(srcSock, dstSock) {
		req, c := e.request(t, ctx, sock, src, dst, func(f *flowpb.Flow) error {
			if f.GetSource().GetPodName() != srcPod.Name || f.GetDestination().GetPodName() != dstPod.Name ||
				f.GetDestinationService().GetName() != svc {
				return fmt.Errorf("%s: flow %s → %s (service %q), want %s → %s (service %q) once the agent syncs",
					sock, f.GetSource().GetPodName(), f.GetDestination().GetPodName(), f.GetDestinationService().GetName(),
					srcPod.Name, dstPod.Name, svc)
			}
			return nil
		})
		for end, want := range map[*flowpb.Endpoint]cluster.Pod{req.GetSource(): srcPod, req.GetDestination(): dstPod} {
			app := want.Labels["app"]
			if end.GetNamespace() != want.Namespace || end.GetPodName() != want.Name {
				t.Errorf("%s: endpoint %s/%s, want %s", sock, end.GetNamespace(), end.GetPodName(), want.Key())
			}
			if w := end.GetWorkloads(); len(w) != 1 || w[0].GetKind() != "Deployment" || w[0].GetName() != app {
				t.Errorf("%s: %s workloads = %v, want Deployment/%s", sock, want.Name, w, app)
			}
			if id := end.GetIdentity(); id < 256 || id > 65535 {
				t.Errorf("%s: %s identity = %d, want a cluster-local identity", sock, want.Name, id)
			}
			if !slices.Contains(end.GetLabels(), "k8s:app="+app) ||
				!slices.Contains(end.GetLabels(), "k8s:io.kubernetes.pod.namespace="+want.Namespace) {
				t.Errorf("%s: %s labels = %v", sock, want.Name, end.GetLabels())
			}
		}
		srcID := strconv.Itoa(int(req.GetSource().GetIdentity()))
		conn := []string{"--last", "100000", "--port", strconv.Itoa(int(c.Src.Port))}
		for _, f := range []struct {
			args []string
			want bool
		}{
			{[]string{"--pod", srcPod.Key()}, true},
			{[]string{"--to-pod", srcPod.Key()}, false},
			{[]string{"--namespace", srcPod.Namespace}, true},
			{[]string{"--namespace", "kube-system"}, false},
			{[]string{"--label", "app=" + srcPod.Labels["app"]}, true},
			{[]string{"--from-label", "app=" + dstPod.Labels["app"]}, false},
			{[]string{"--workload", "Deployment/" + srcPod.Labels["app"]}, true},
			{[]string{"--to-workload", dstPod.Labels["app"]}, true},
			{[]string{"--identity", srcID}, true},
			{[]string{"--to-identity", srcID}, false},
			{[]string{"--to-service", dstPod.Namespace + "/" + svc}, true},
			{[]string{"--from-service", dstPod.Namespace + "/" + svc}, false},
		} {
			requests, _ := connFlows(c, e.observeJSON(t, sock, append(conn, f.args...)...))
			if got := len(requests) > 0; got != f.want {
				t.Errorf("%s: hubble observe %s found the request: %v, want %v", sock, strings.Join(f.args, " "), got, f.want)
			}
		}
	}
}

// TestKubernetesIPReuse deletes a pod and gives its address to a new pod of
// another Deployment: flows before name the old pod, flows after the new.
func TestKubernetesIPReuse(t *testing.T) {
	e := setupKube(t, kubePrefix)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	src, sock := e.pod(1)
	dst, _ := e.pod(0)
	oldPod, _ := e.cluster.Topology.Pod(src.Name)

	_, before := e.request(t, ctx, sock, src, dst, func(f *flowpb.Flow) error {
		if f.GetSource().GetPodName() != oldPod.Name {
			return fmt.Errorf("flow names %q, want %q once the agent syncs", f.GetSource().GetPodName(), oldPod.Name)
		}
		return nil
	})

	pods := e.api.Admin.CoreV1().Pods(oldPod.Namespace)
	if err := pods.Delete(ctx, oldPod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	newPod := kube.Pod{
		Namespace: oldPod.Namespace, Name: "reused-7f9c4d8b6d-abcde", Node: oldPod.Node,
		Labels: map[string]string{"app": "reused", "pod-template-hash": "7f9c4d8b6d"},
		IPs:    []netip.Addr{oldPod.IPv4, oldPod.IPv6},
	}
	if err := kube.CreatePod(ctx, e.api.Admin, newPod); err != nil {
		t.Fatal(err)
	}
	after, _ := e.request(t, ctx, sock, src, dst, func(f *flowpb.Flow) error {
		if f.GetSource().GetPodName() != newPod.Name {
			return fmt.Errorf("flow after the change names %q, want %q", f.GetSource().GetPodName(), newPod.Name)
		}
		return nil
	})
	if w := after.GetSource().GetWorkloads(); len(w) != 1 || w[0].GetName() != "reused" {
		t.Errorf("new pod's workloads = %v, want Deployment/reused", w)
	}
	requests, _ := connFlows(before, e.observeJSON(t, sock, "--last", "100000", "--port", strconv.Itoa(int(before.Src.Port))))
	if len(requests) == 0 || requests[0].GetSource().GetPodName() != oldPod.Name {
		t.Errorf("flow before the change: %s, want source %s", describe(requests), oldPod.Name)
	}
	if out := e.hubble(t, sock, "observe", "--last", "100000", "--pod", newPod.Namespace+"/"+newPod.Name); !strings.Contains(out, newPod.Name) {
		t.Errorf("hubble observe --pod %s/%s shows nothing", newPod.Namespace, newPod.Name)
	}
}

// createLoadBalancer creates a LoadBalancer Service on port whose ingress
// address is addr, and returns its name.
func createLoadBalancer(t *testing.T, ctx context.Context, api *kube.ControlPlane, namespace, name string, addr netip.Addr, port uint16) string {
	t.Helper()
	services := api.Admin.CoreV1().Services(namespace)
	svc, err := services.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Name: "http", Port: int32(port), TargetPort: intstr.FromInt32(int32(port))}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create service: %v", err)
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: addr.String()}}
	if _, err := services.UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("set service status: %v", err)
	}
	return name
}
