//go:build linux

package kubenode

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"google.golang.org/protobuf/encoding/protojson"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/foveanet/fovea/test/cluster"
)

const (
	netnsName     = "foveak8s-node"
	chartDir      = "../../helm/fovea"
	pauseImage    = "fovea.test/pause:1"
	workloadImage = "fovea.test/workload:1"
	serverPort    = 8080
)

func env(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run the test with `make kube-node`", name)
	}
	return v
}

// buildImage builds a test image of the program in images/NAME.
func buildImage(t *testing.T, dir, name, ref string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./images/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, out)
	}
	tar := bin + ".tar"
	if out, err := exec.Command(env(t, "OCIBUILD_BIN"), "--binary", bin, "--path", "/"+name, "--user", "65532:65532",
		"--ref", ref, "--out", tar).CombinedOutput(); err != nil {
		t.Fatalf("pack %s: %v\n%s", name, err, out)
	}
	return tar
}

// TestHelmInstall installs the chart with one command on a real node —
// kubelet, containerd, runc, the CNI bridge, kube-proxy — and checks what
// a user sees: the agent and the relay become Ready, the real hubble CLI
// sees two pods talk through the relay Service, with their names,
// namespace and workloads, and lists the node; after helm uninstall no
// eBPF program is left attached in the node.
func TestHelmInstall(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs a kubelet and containerd")
	}
	bins, err := BinsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	helm, hubble, foveaImage := env(t, "HELM_BIN"), env(t, "HUBBLE_BIN"), env(t, "FOVEA_IMAGE")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	dir := t.TempDir()
	images := []string{buildImage(t, dir, "pause", pauseImage), buildImage(t, dir, "workload", workloadImage), foveaImage}

	began := time.Now()
	n, err := Start(ctx, Config{Netns: netnsName, Dir: dir, Bins: bins, SandboxImage: pauseImage, Images: images})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	t.Logf("node Ready in %v", time.Since(began).Round(time.Second))

	if _, err := n.Exec(ctx, helm, "install", "fovea", chartDir, "--namespace", "kube-system",
		"--kubeconfig", n.Kubeconfig, "--set", "image.pullPolicy=Never"); err != nil {
		t.Fatal(err)
	}
	n.waitInstalled(t, ctx)
	t.Logf("agent and relay Ready %v after the node", time.Since(began).Round(time.Second))

	server := n.deploy(t, ctx, "server", "serve", fmt.Sprint(serverPort))
	n.deploy(t, ctx, "client", "connect", fmt.Sprintf("%s:%d", server.Status.PodIP, serverPort))

	svc, err := n.Client.CoreV1().Services("kube-system").Get(ctx, "fovea-relay", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	relay := fmt.Sprintf("%s:%d", svc.Spec.ClusterIP, svc.Spec.Ports[0].Port)
	var flow *flowpb.Flow
	n.eventually(t, ctx, 2*time.Minute, func() error {
		out, err := n.Exec(ctx, hubble, "observe", "--server", relay, "--namespace", "shop", "--last", "1000", "-o", "json")
		if err != nil {
			return err
		}
		flow = findFlow(out)
		if flow == nil {
			return fmt.Errorf("no flow client → server:%d through the relay among:\n%s", serverPort, out)
		}
		return nil
	})
	t.Logf("through the relay Service %s: %s/%s → %s/%s, workloads %v → %v", relay,
		flow.Source.Namespace, flow.Source.PodName, flow.Destination.Namespace, flow.Destination.PodName,
		flow.Source.Workloads, flow.Destination.Workloads)
	nodes, err := n.Exec(ctx, hubble, "list", "nodes", "--server", relay)
	if err != nil || !bytes.Contains(nodes, []byte("default/"+NodeName)) || !bytes.Contains(nodes, []byte("Connected")) {
		t.Errorf("hubble list nodes: %v\n%s", err, nodes)
	}

	agent := n.pid(t, "agent")
	n.checkMemory(t, ctx, map[string]int{"agent": agent, "relay": n.pid(t, "relay")})
	if progs := n.attached(t); len(progs) == 0 {
		t.Fatal("bpftool shows no program attached while the agent runs: the check below would prove nothing")
	}
	if _, err := n.Exec(ctx, helm, "uninstall", "fovea", "--namespace", "kube-system", "--kubeconfig", n.Kubeconfig, "--wait"); err != nil {
		t.Fatal(err)
	}
	n.eventually(t, ctx, time.Minute, func() error {
		if err := syscall.Kill(agent, 0); err == nil {
			return fmt.Errorf("agent (pid %d) still running", agent)
		}
		return nil
	})
	if progs := n.attached(t); len(progs) > 0 {
		t.Errorf("after helm uninstall, still attached in the node: %v", progs)
	}
}

func (n *Node) eventually(t *testing.T, ctx context.Context, limit time.Duration, check func() error) {
	t.Helper()
	if err := waitFor(ctx, limit, nil, func() error {
		for _, p := range n.procs {
			if err := p.exited(); err != nil {
				return errPermanent{err}
			}
		}
		return check()
	}); err != nil {
		n.dumpPods(t, ctx)
		t.Fatal(err)
	}
}

// waitInstalled waits until the agent DaemonSet and the relay are Ready.
func (n *Node) waitInstalled(t *testing.T, ctx context.Context) {
	t.Helper()
	n.eventually(t, ctx, 3*time.Minute, func() error {
		ds, err := n.Client.AppsV1().DaemonSets("kube-system").Get(ctx, "fovea-agent", metav1.GetOptions{})
		if err != nil {
			return err
		}
		d, err := n.Client.AppsV1().Deployments("kube-system").Get(ctx, "fovea-relay", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if ds.Status.NumberReady != 1 || d.Status.ReadyReplicas != 1 {
			return fmt.Errorf("agents ready %d/%d, relays ready %d/1", ds.Status.NumberReady, ds.Status.DesiredNumberScheduled, d.Status.ReadyReplicas)
		}
		return nil
	})
}

// deploy runs the workload image as a one-replica Deployment in namespace
// shop and returns its pod once it runs.
func (n *Node) deploy(t *testing.T, ctx context.Context, name string, args ...string) *corev1.Pod {
	t.Helper()
	if _, err := n.Client.CoreV1().Namespaces().Get(ctx, "shop", metav1.GetOptions{}); err != nil {
		if _, err := n.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	labels := map[string]string{"app": name}
	one := int32(1)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: name, Image: workloadImage, ImagePullPolicy: corev1.PullNever, Args: args,
				}}},
			},
		},
	}
	if _, err := n.Client.AppsV1().Deployments("shop").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var pod *corev1.Pod
	n.eventually(t, ctx, 2*time.Minute, func() error {
		pods, err := n.Client.CoreV1().Pods("shop").List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil {
			return err
		}
		for i := range pods.Items {
			if p := &pods.Items[i]; p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" {
				pod = p
				return nil
			}
		}
		return fmt.Errorf("no running %s pod yet", name)
	})
	return pod
}

// findFlow returns a flow from the client pod to the server pod's port,
// both named with their namespace and Deployment, among hubble's JSON lines.
func findFlow(out []byte) *flowpb.Flow {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var resp observerpb.GetFlowsResponse
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(sc.Bytes(), &resp); err != nil {
			continue
		}
		f := resp.GetFlow()
		src, dst := f.GetSource(), f.GetDestination()
		if src.GetNamespace() == "shop" && strings.HasPrefix(src.GetPodName(), "client-") &&
			dst.GetNamespace() == "shop" && strings.HasPrefix(dst.GetPodName(), "server-") &&
			f.GetL4().GetTCP().GetDestinationPort() == serverPort &&
			hasWorkload(src, "client") && hasWorkload(dst, "server") {
			return f
		}
	}
	return nil
}

func hasWorkload(e *flowpb.Endpoint, name string) bool {
	for _, w := range e.GetWorkloads() {
		if w.GetName() == name && w.GetKind() == "Deployment" {
			return true
		}
	}
	return false
}

// pid finds the process of `fovea COMMAND` started by this node: the agent
// shares the node's network namespace, the relay's is a pod's whose
// namespace the node's containerd pinned.
func (n *Node) pid(t *testing.T, command string) int {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.HasPrefix(cmdline, []byte("/usr/bin/fovea\x00"+command+"\x00")) {
			continue
		}
		ns, err := os.Stat(filepath.Join("/proc", e.Name(), "ns", "net"))
		if err == nil && n.ownsNetns(ns) {
			var pid int
			fmt.Sscan(e.Name(), &pid)
			return pid
		}
	}
	t.Fatalf("no fovea %s process on the node", command)
	return 0
}

// ownsNetns reports whether ns is the node's network namespace or one its
// containerd pinned for a pod.
func (n *Node) ownsNetns(ns os.FileInfo) bool {
	pinned, _ := filepath.Glob("/run/netns/cni-*")
	for _, p := range append(pinned, "/run/netns/"+netnsName) {
		if slices.Contains(n.netnsBefore, p) {
			continue
		}
		if st, err := os.Stat(p); err == nil && os.SameFile(st, ns) {
			return true
		}
	}
	return false
}

// checkMemory checks the agent's and the relay's resident memory against
// the requests the chart gives them, which it logs as the measured
// figures behind them.
func (n *Node) checkMemory(t *testing.T, ctx context.Context, pids map[string]int) {
	t.Helper()
	ds, err := n.Client.AppsV1().DaemonSets("kube-system").Get(ctx, "fovea-agent", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := n.Client.AppsV1().Deployments("kube-system").Get(ctx, "fovea-relay", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	requests := map[string]corev1.ResourceList{
		"agent": ds.Spec.Template.Spec.Containers[0].Resources.Requests,
		"relay": d.Spec.Template.Spec.Containers[0].Resources.Requests,
	}
	for name, pid := range pids {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatal(err)
		}
		var rssKiB int64
		for line := range strings.SplitSeq(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &rssKiB)
			}
		}
		request := requests[name][corev1.ResourceMemory]
		t.Logf("%s resident memory: %d MiB (request %s)", name, rssKiB>>10, request.String())
		if rssKiB<<10 > request.Value() {
			t.Errorf("%s uses %d MiB resident, more than the %s the chart requests for it", name, rssKiB>>10, request.String())
		}
	}
}

// attached lists the eBPF programs attached to the node's interfaces —
// with tcx (which this machine's bpftool 7.1 cannot show), as tc filters
// or XDP — asking the kernel from inside the node's namespace.
func (n *Node) attached(t *testing.T) []string {
	t.Helper()
	var progs []string
	err := cluster.NewNetns(netnsName).Do(func() error {
		links, err := netlink.LinkList()
		if err != nil {
			return err
		}
		for _, l := range links {
			name := l.Attrs().Name
			for _, at := range []ebpf.AttachType{ebpf.AttachTCXIngress, ebpf.AttachTCXEgress} {
				res, err := link.QueryPrograms(link.QueryOptions{Target: l.Attrs().Index, Attach: at})
				if err != nil {
					return fmt.Errorf("query %s programs of %s: %w", at, name, err)
				}
				for _, p := range res.Programs {
					progs = append(progs, fmt.Sprintf("%s %s program %d", name, at, p.ID))
				}
			}
			for _, parent := range []uint32{netlink.HANDLE_MIN_INGRESS, netlink.HANDLE_MIN_EGRESS} {
				filters, _ := netlink.FilterList(l, parent) // none without a clsact qdisc
				for _, f := range filters {
					if bf, ok := f.(*netlink.BpfFilter); ok {
						progs = append(progs, fmt.Sprintf("%s tc filter %s", name, bf.Name))
					}
				}
			}
			if xdp := l.Attrs().Xdp; xdp != nil && xdp.Attached {
				progs = append(progs, fmt.Sprintf("%s xdp program %d", name, xdp.ProgId))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return progs
}

// dumpPods logs the pods' states and the logs of their containers, for a
// failure to be read from CI's output.
func (n *Node) dumpPods(t *testing.T, ctx context.Context) {
	t.Helper()
	pods, err := n.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err == nil {
		for _, p := range pods.Items {
			t.Logf("pod %s/%s: %s %+v", p.Namespace, p.Name, p.Status.Phase, p.Status.ContainerStatuses)
		}
	}
	logs, _ := filepath.Glob(filepath.Join(n.cfg.Dir, "pod-logs", "*", "*", "*.log"))
	for _, l := range logs {
		data, _ := os.ReadFile(l)
		if len(data) > 3000 {
			data = data[len(data)-3000:]
		}
		t.Logf("=== %s\n%s", l, data)
	}
	for _, p := range n.procs {
		data, _ := os.ReadFile(p.logPath)
		if len(data) > 3000 {
			data = data[len(data)-3000:]
		}
		t.Logf("=== %s\n%s", p.logPath, data)
	}
}
