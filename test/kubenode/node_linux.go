//go:build linux

package kubenode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/foveanet/fovea/test/kube"
)

// Node is a single-node Kubernetes cluster in its own network namespace:
// etcd and kube-apiserver (test/kube), kube-controller-manager,
// kube-scheduler, containerd with runc and the CNI bridge plugin, the
// kubelet and kube-proxy.
type Node struct {
	CP *kube.ControlPlane
	// Kubeconfig is an admin kubeconfig, for clients run in the node's
	// namespace (Exec).
	Kubeconfig string
	Client     kubernetes.Interface

	cfg   Config
	procs []*process
	// netnsBefore are the pinned namespaces there were before containerd
	// started; Close removes the pod namespaces it left.
	netnsBefore []string
	shared      string // the kubelet's root dir, a shared mount
	// created are the hostDirs that were missing before the node started.
	created []string
}

// hostDirs are directories the components use whatever they are told:
// containerd's shim sockets, the CNI plugins' result cache, the kubelet's
// device plugins and the default place of pod logs. Close removes
// those Start created.
var hostDirs = []string{"/run/containerd", "/var/lib/cni", "/var/lib/kubelet", "/var/log/pods"}

// Start builds the namespace, starts every component and waits until the
// node is Ready. Close undoes all of it.
func Start(ctx context.Context, cfg Config) (_ *Node, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{cfg: cfg}
	for _, d := range hostDirs {
		if _, err := os.Stat(d); os.IsNotExist(err) {
			n.created = append(n.created, d)
		}
	}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	if err := n.network(ctx); err != nil {
		return nil, err
	}
	if n.CP, err = kube.Start(ctx, kube.Config{
		EtcdBin: cfg.Bins.Etcd, APIServerBin: cfg.Bins.APIServer, Dir: cfg.Dir,
		Address: NodeAddr, Netns: cfg.Netns, Dial: kube.NetnsDialer(cfg.Netns),
		ServiceAccountAdmission: true, Logger: cfg.Logger,
	}); err != nil {
		return nil, err
	}
	n.Client = n.CP.Admin
	n.Kubeconfig = filepath.Join(cfg.Dir, "admin.kubeconfig")
	if err := kube.WriteKubeconfig(n.Kubeconfig, n.CP.Host, n.CP.CA, n.CP.AdminToken); err != nil {
		return nil, err
	}
	if err := n.startContainerd(ctx); err != nil {
		return nil, err
	}
	if err := n.startControllers(); err != nil {
		return nil, err
	}
	if err := n.startKubelet(); err != nil {
		return nil, err
	}
	return n, n.waitReady(ctx, 3*time.Minute)
}

func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// network makes the node's namespace: an uplink holding NodeAddr and the
// default route (a veth whose peer leads nowhere: this kernel has no dummy
// links), forwarding on (the node routes its pods' packets).
func (n *Node) network(ctx context.Context) error {
	ns := n.cfg.Netns
	if _, err := os.Stat("/run/netns/" + ns); err == nil {
		if err := run(ctx, "ip", "netns", "del", ns); err != nil {
			return err
		}
	}
	for _, args := range [][]string{
		{"netns", "add", ns},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "uplink"},
		{"-n", ns, "addr", "add", NodeAddr.String() + "/24", "dev", "eth0"},
		{"-n", ns, "link", "set", "uplink", "up"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"-n", ns, "route", "add", "default", "dev", "eth0"},
	} {
		if err := run(ctx, "ip", args...); err != nil {
			return err
		}
	}
	return run(ctx, "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
}

func (n *Node) start(name string, prefix []string, path string, args ...string) (*process, error) {
	p, err := startIn(n.cfg.Dir, n.cfg.Netns, name, prefix, path, args...)
	if err != nil {
		return nil, err
	}
	n.procs = append(n.procs, p)
	return p, nil
}

func (n *Node) startContainerd(ctx context.Context) error {
	dir := n.cfg.Dir
	for _, d := range []string{"containerd", "cni/net.d", "cni/ipam", "pod-logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	files := map[string]string{
		"containerd/config.toml":       containerdConfig(dir, n.cfg.SandboxImage),
		"cni/net.d/10-bridge.conflist": cniConfig(dir),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	n.netnsBefore, _ = filepath.Glob("/run/netns/cni-*")
	p, err := n.start("containerd", nil, "containerd", "--config", filepath.Join(dir, "containerd/config.toml"))
	if err != nil {
		return err
	}
	sock := containerdSocket(dir)
	if err := waitFor(ctx, 30*time.Second, p, func() error {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		return fmt.Errorf("containerd: %w", err)
	}
	for _, img := range n.cfg.Images {
		if err := run(ctx, "ctr", "--address", sock, "-n", "k8s.io", "images", "import", img); err != nil {
			return err
		}
	}
	return nil
}

func (n *Node) startControllers() error {
	k := n.Kubeconfig
	if _, err := n.start("kube-controller-manager", nil, n.cfg.Bins.ControllerManager,
		"--kubeconfig", k, "--authentication-kubeconfig", k, "--authorization-kubeconfig", k,
		"--leader-elect=false", "--bind-address", "127.0.0.1",
		"--root-ca-file", n.CP.CAFile, "--service-account-private-key-file", n.CP.ServiceAccountKeyFile,
		"--use-service-account-credentials=false"); err != nil {
		return err
	}
	if _, err := n.start("kube-scheduler", nil, n.cfg.Bins.Scheduler,
		"--kubeconfig", k, "--authentication-kubeconfig", k, "--authorization-kubeconfig", k,
		"--leader-elect=false", "--bind-address", "127.0.0.1"); err != nil {
		return err
	}
	// conntrack settings left as they are: some are global.
	_, err := n.start("kube-proxy", nil, n.cfg.Bins.KubeProxy,
		"--kubeconfig", k, "--hostname-override", NodeName, "--proxy-mode", "iptables",
		"--cluster-cidr", PodCIDR.String(), "--conntrack-max-per-core", "0",
		"--conntrack-tcp-timeout-established", "0", "--conntrack-tcp-timeout-close-wait", "0",
		"--metrics-bind-address", "127.0.0.1:10249", "--healthz-bind-address", "127.0.0.1:10256")
	return err
}

// startKubelet runs the kubelet in a mount namespace of its own, where
// kernelTunables' files cover the global sysctls it would set, and with
// its root dir a shared mount, so that what it mounts there (pods'
// volumes) reaches containerd in the host's mount namespace.
func (n *Node) startKubelet() error {
	dir := n.cfg.Dir
	root := filepath.Join(dir, "kubelet")
	tun := filepath.Join(dir, "kernel-tunables")
	for _, d := range []string{root, tun} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	script := []string{"set -e"}
	for _, key := range slices.Sorted(maps.Keys(kernelTunables)) {
		f := filepath.Join(tun, strings.ReplaceAll(key, "/", "."))
		if err := os.WriteFile(f, []byte(kernelTunables[key]+"\n"), 0o644); err != nil {
			return err
		}
		script = append(script, fmt.Sprintf("mount --bind %s /proc/sys/%s", f, key))
	}
	script = append(script, `exec "$@"`)
	if err := run(context.Background(), "mount", "--bind", root, root); err != nil {
		return err
	}
	n.shared = root
	if err := run(context.Background(), "mount", "--make-shared", root); err != nil {
		return err
	}
	config := filepath.Join(dir, "kubelet.yaml")
	if err := os.WriteFile(config, []byte(kubeletConfig(dir)), 0o644); err != nil {
		return err
	}
	prefix := []string{"unshare", "--mount", "--propagation", "unchanged", "--", "sh", "-c", strings.Join(script, "\n"), "kubelet"}
	_, err := n.start("kubelet", prefix, n.cfg.Bins.Kubelet,
		"--config", config, "--kubeconfig", n.Kubeconfig, "--hostname-override", NodeName,
		"--node-ip", NodeAddr.String(), "--root-dir", root, "--cert-dir", filepath.Join(dir, "kubelet-pki"))
	return err
}

// waitReady waits until the node reports Ready.
func (n *Node) waitReady(ctx context.Context, limit time.Duration) error {
	return waitFor(ctx, limit, nil, func() error {
		for _, p := range n.procs {
			if err := p.exited(); err != nil {
				return errPermanent{err}
			}
		}
		node, err := n.Client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				if c.Status == corev1.ConditionTrue {
					return nil
				}
				return fmt.Errorf("node %s not ready: %s", NodeName, c.Message)
			}
		}
		return fmt.Errorf("node %s has no Ready condition", NodeName)
	})
}

// errPermanent ends waitFor at once.
type errPermanent struct{ error }

// waitFor calls check every 200 ms until it returns nil, a permanent
// error, p (if any) exits, or limit passes.
func waitFor(ctx context.Context, limit time.Duration, p *process, check func() error) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		err := check()
		if err == nil {
			return nil
		}
		if perm, ok := err.(errPermanent); ok {
			return perm.error
		}
		if p != nil {
			if exited := p.exited(); exited != nil {
				return exited
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %v: %w", limit, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Exec runs a command in the node's network namespace (a client of the
// API server, of Services or of pods) and returns its stdout.
func (n *Node) Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--net=/run/netns/" + n.cfg.Netns, "--", name}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// Close stops the controllers, deletes every pod and waits for their
// sandboxes to go (so that the CNI plugin removes their links and
// containerd their namespaces), stops the other components, unmounts the
// kubelet's root dir and deletes the namespace.
func (n *Node) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	// First what would make pods again, then the pods.
	for _, p := range n.procs {
		if p.name == "kube-controller-manager" || p.name == "kube-scheduler" {
			p.stop()
		}
	}
	if n.Client != nil {
		errs = append(errs, n.deletePods(ctx))
	}
	for i := len(n.procs) - 1; i >= 0; i-- {
		n.procs[i].stop()
	}
	errs = append(errs, n.killShims())
	if n.shared != "" {
		errs = append(errs, run(ctx, "umount", "-R", "-l", n.shared))
	}
	if n.CP != nil {
		n.CP.Close()
	}
	left, _ := filepath.Glob("/run/netns/cni-*")
	for _, ns := range left {
		if !slices.Contains(n.netnsBefore, ns) {
			errs = append(errs, run(ctx, "ip", "netns", "del", filepath.Base(ns)))
		}
	}
	if _, err := os.Stat("/run/netns/" + n.cfg.Netns); err == nil {
		errs = append(errs, run(ctx, "ip", "netns", "del", n.cfg.Netns))
	}
	for _, d := range n.created {
		errs = append(errs, os.RemoveAll(d))
	}
	if err := errors.Join(errs...); err != nil {
		n.cfg.Logger.Warn("closing the single-node cluster", "err", err)
	}
}

// deletePods deletes every pod at once and waits until the kubelet has
// removed them.
func (n *Node) deletePods(ctx context.Context) error {
	zero := int64(0)
	nss, err := n.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, ns := range nss.Items {
		_ = n.Client.CoreV1().Pods(ns.Name).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
	}
	return waitFor(ctx, 45*time.Second, nil, func() error {
		out, err := exec.CommandContext(ctx, "ctr", "--address", containerdSocket(n.cfg.Dir), "-n", "k8s.io", "tasks", "ls", "-q").Output()
		if err != nil {
			return errPermanent{err}
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			return fmt.Errorf("containers still running: %s", strings.ReplaceAll(s, "\n", " "))
		}
		return nil
	})
}

// killShims ends the runc shims this node's containerd started, which
// outlive containerd by design; they are told apart by its socket.
func (n *Node) killShims() error {
	sock := containerdSocket(n.cfg.Dir)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), "containerd-shim") || !strings.Contains(string(cmdline), sock) {
			continue
		}
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
		}
	}
	return nil
}
