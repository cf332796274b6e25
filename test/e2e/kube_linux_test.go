//go:build linux

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
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
// prefix), the control plane and the agents, started with opts besides the
// kubeconfig; all are stopped when t ends.
func setupKube(t *testing.T, prefix string, opts ...demo.AgentOption) *kubeEnv {
	t.Helper()
	return setupKubeThen(t, prefix, nil, opts...)
}

// setupKubeThen is setupKube calling before, unless nil, once the control
// plane describes the cluster and before the agents start (to install
// CRDs an agent looks for at start).
func setupKubeThen(t *testing.T, prefix string, before func(context.Context, *kube.ControlPlane) error, opts ...demo.AgentOption) *kubeEnv {
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
	if before != nil {
		if err := before(ctx, api); err != nil {
			t.Fatal(err)
		}
	}

	role, err := kube.ReadClusterRole("../../helm/fovea/rbac/agent.yaml")
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
	sockets, err := demo.StartAgents(life, c, fovea, ringCapacity, append(opts, demo.WithKubeconfig(kubeconfig))...)
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
			if data, err := os.ReadFile(filepath.Join(apiDir, "kube-apiserver.log")); err == nil {
				fmt.Fprintf(os.Stderr, "=== kube-apiserver log (last 4 KiB)\n%s\n", data[max(0, len(data)-4096):])
			}
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
	// with direct server return. The pod's address and port are also a
	// backend of the Service kube.Describe made for its Deployment: the
	// frontend must win.
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
		checkPodEndpoint(t, sock, req.GetSource(), srcPod)
		checkPodEndpoint(t, sock, req.GetDestination(), dstPod)
		e.checkFilters(t, sock, c, append(podFilters(srcPod, dstPod, req.GetSource().GetIdentity()),
			filterCase{[]string{"--to-service", dstPod.Namespace + "/" + svc}, true},
			filterCase{[]string{"--from-service", dstPod.Namespace + "/" + svc}, false}))
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

// TestKubernetesServiceBackends connects a client straight to a server
// pod, as kube-proxy's translation leaves it, and checks with hubble at
// the server's node that the EndpointSlice backend names the service:
// destination_service on the request, source_service on the reply.
func TestKubernetesServiceBackends(t *testing.T) {
	e := setupKube(t, kubePrefix)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	src, srcSock := e.pod(0)
	dst, dstSock := e.pod(2)
	dstPod, _ := e.cluster.Topology.Pod(dst.Name)
	if srcSock == dstSock {
		t.Fatalf("pods 0 and 2 share node %s; the test needs the server on another node", dstPod.Node)
	}
	svc := dstPod.Namespace + "/" + dstPod.Labels["app"] // the Service kube.Describe made

	req, c := e.request(t, ctx, dstSock, src, dst, func(f *flowpb.Flow) error {
		if got := f.GetDestinationService(); got.GetNamespace()+"/"+got.GetName() != svc {
			return fmt.Errorf("request's destination_service %v, want %s once the agent syncs", got, svc)
		}
		return nil
	})
	if req.GetNodeName() != dstPod.Node && !strings.HasSuffix(req.GetNodeName(), "/"+dstPod.Node) {
		t.Errorf("flow observed on %q, want the server's node %s", req.GetNodeName(), dstPod.Node)
	}
	if req.GetIP().GetDestination() != dstPod.IPv4.String() {
		t.Errorf("request's destination %s, want the backend address %s", req.GetIP().GetDestination(), dstPod.IPv4)
	}
	conn := []string{"--last", "100000", "--port", strconv.Itoa(int(c.Src.Port))}
	requests, _ := connFlows(c, e.observeJSON(t, dstSock, append(conn, "--to-service", svc)...))
	if len(requests) == 0 {
		t.Errorf("hubble observe --to-service %s at %s does not find the request", svc, dstPod.Node)
	}
	_, replies := connFlows(c, e.observeJSON(t, dstSock, append(conn, "--from-service", svc)...))
	if len(replies) == 0 {
		t.Errorf("hubble observe --from-service %s at %s does not find the reply", svc, dstPod.Node)
	}
	requests, _ = connFlows(c, e.observeJSON(t, dstSock, append(conn, "--from-service", svc)...))
	if len(requests) > 0 {
		t.Errorf("the request has source_service %v", requests[0].GetSourceService())
	}
}

// TestKubernetesAPIServer connects a pod to the kube-apiserver (in the
// fabric namespace, outside every node) and to the default/kubernetes
// cluster IP, and checks that hubble shows both as Cilium's reserved
// kube-apiserver identity: 7, with reserved:kube-apiserver and
// reserved:world.
func TestKubernetesAPIServer(t *testing.T) {
	e := setupKube(t, kubePrefix)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The fabric routes no pod addresses; give it routes back so the
	// pod's connection completes.
	for _, n := range e.cluster.Topology.Nodes {
		if out, err := exec.CommandContext(ctx, "ip", "-n", e.cluster.Topology.Fabric, "route", "add",
			n.PodCIDRv4.String(), "via", n.IPv4.String()).CombinedOutput(); err != nil {
			t.Fatalf("route %s via %s in the fabric: %v: %s", n.PodCIDRv4, n.IPv4, err, out)
		}
	}
	apiURL, err := url.Parse(e.api.Host)
	if err != nil {
		t.Fatal(err)
	}
	api := netip.MustParseAddrPort(apiURL.Host)
	src, sock := e.pod(0)
	wantLabels := []string{"reserved:kube-apiserver", "reserved:world"}

	var port uint16
	eventually(t, 30*time.Second, func() error {
		var err error
		if port, err = connectFrom(ctx, src, api, true); err != nil {
			return err
		}
		conn := []string{"--last", "100000", "--port", strconv.Itoa(int(port))}
		flows := e.observeJSON(t, sock, append(conn, "--to-identity", "7", "--to-ip", api.Addr().String())...)
		if len(flows) == 0 {
			return fmt.Errorf("hubble observe --to-identity 7 does not find %s:%d → %s yet", src.IPv4, port, api)
		}
		if d := flows[0].GetDestination(); d.GetIdentity() != 7 || !slices.Equal(d.GetLabels(), wantLabels) {
			return fmt.Errorf("destination %v, want identity 7 with %v", d, wantLabels)
		}
		return nil
	})
	conn := []string{"--last", "100000", "--port", strconv.Itoa(int(port))}
	if flows := e.observeJSON(t, sock, append(conn, "--from-identity", "7", "--from-label", "reserved:kube-apiserver")...); len(flows) == 0 {
		t.Errorf("hubble observe --from-identity 7 --from-label reserved:kube-apiserver does not find the apiserver's replies")
	}
	if flows := e.observeJSON(t, sock, append(conn, "--to-label", "reserved:kube-apiserver", "--to-service", "default/kubernetes")...); len(flows) == 0 {
		t.Errorf("hubble observe --to-label reserved:kube-apiserver --to-service default/kubernetes does not find the connection to the backend")
	}

	// The cluster IP answers nowhere here (no kube-proxy), but the
	// connection attempt leaves the pod with it as destination.
	svc, err := e.api.Admin.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clusterIP := netip.AddrPortFrom(netip.MustParseAddr(svc.Spec.ClusterIP), uint16(svc.Spec.Ports[0].Port))
	eventually(t, 30*time.Second, func() error {
		port, _ := connectFrom(ctx, src, clusterIP, false)
		conn := []string{"--last", "100000", "--port", strconv.Itoa(int(port))}
		flows := e.observeJSON(t, sock, append(conn, "--to-identity", "7", "--to-service", "default/kubernetes")...)
		if len(flows) == 0 || flows[0].GetIP().GetDestination() != clusterIP.Addr().String() {
			return fmt.Errorf("hubble observe --to-identity 7 --to-service default/kubernetes does not find the attempt to %s: %s", clusterIP, describe(flows))
		}
		return nil
	})
}

// connectFrom connects from h's IPv4 address to dst and closes the
// connection, returning the source port. Unless mustConnect, a failed
// connection is no error: its first packets were still sent.
func connectFrom(ctx context.Context, h traffic.Host, dst netip.AddrPort, mustConnect bool) (uint16, error) {
	var port uint16
	err := h.Netns.Do(func() error {
		// Take a free port first, so it is known even when the dial fails.
		l, err := net.Listen("tcp", netip.AddrPortFrom(h.IPv4, 0).String())
		if err != nil {
			return err
		}
		port = l.Addr().(*net.TCPAddr).AddrPort().Port()
		if err := l.Close(); err != nil {
			return err
		}
		d := net.Dialer{Timeout: time.Second, LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(h.IPv4, port))}
		conn, err := d.DialContext(ctx, "tcp", dst.String())
		if err != nil {
			return err
		}
		return conn.Close()
	})
	if err != nil && mustConnect {
		return port, fmt.Errorf("connect %s → %s: %w", h.Name, dst, err)
	}
	return port, nil
}

// TestKubernetesNodeLabels checks that flows carry their node's labels as
// Hubble shows them, that hubble's --node-label selects by them, and that
// a relabelled Node shows in the flows seen from then on only.
func TestKubernetesNodeLabels(t *testing.T) {
	e := setupKube(t, kubePrefix)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	src, sock := e.pod(0)
	dst, _ := e.pod(2)
	srcPod, _ := e.cluster.Topology.Pod(src.Name)
	i := slices.IndexFunc(e.cluster.Topology.Nodes, func(n cluster.Node) bool { return n.Name == srcPod.Node })
	want := hubbleLabels(kube.NodeLabels(e.cluster.Topology, i))
	zone := "topology.kubernetes.io/zone=" + kube.NodeLabels(e.cluster.Topology, i)["topology.kubernetes.io/zone"]

	_, c := e.request(t, ctx, sock, src, dst, func(f *flowpb.Flow) error {
		if !slices.Equal(f.GetNodeLabels(), want) {
			return fmt.Errorf("node_labels %q, want %q once the agent syncs", f.GetNodeLabels(), want)
		}
		return nil
	})
	conn := []string{"--last", "100000", "--port", strconv.Itoa(int(c.Src.Port))}
	if requests, _ := connFlows(c, e.observeJSON(t, sock, append(conn, "--node-label", zone)...)); len(requests) == 0 {
		t.Errorf("hubble observe --node-label %s does not find the flow", zone)
	}
	if requests, _ := connFlows(c, e.observeJSON(t, sock, append(conn, "--node-label", "topology.kubernetes.io/zone=elsewhere")...)); len(requests) > 0 {
		t.Error("hubble observe --node-label of another zone finds the flow")
	}

	if err := kube.LabelNode(ctx, e.api.Admin, srcPod.Node, map[string]string{"topology.kubernetes.io/zone": "moved"}); err != nil {
		t.Fatal(err)
	}
	e.request(t, ctx, sock, src, dst, func(f *flowpb.Flow) error {
		if !slices.Contains(f.GetNodeLabels(), "topology.kubernetes.io/zone=moved") {
			return fmt.Errorf("node_labels %q after relabelling, want zone moved", f.GetNodeLabels())
		}
		return nil
	})
	if flows := e.observeJSON(t, sock, "--last", "1", "--node-label", "topology.kubernetes.io/zone=moved"); len(flows) == 0 {
		t.Error("hubble observe --node-label topology.kubernetes.io/zone=moved finds nothing after relabelling")
	}
	// As in Cilium, a flow keeps the labels its node had when it was seen.
	if requests, _ := connFlows(c, e.observeJSON(t, sock, append(conn, "--node-label", zone)...)); len(requests) == 0 ||
		!slices.Equal(requests[0].GetNodeLabels(), want) {
		t.Errorf("the flow from before the relabelling: %s, want node_labels %q", describe(requests), want)
	}
}

// hubbleLabels is labels in the form of a flow's node_labels.
func hubbleLabels(labels map[string]string) []string {
	var out []string
	for k, v := range labels {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}
