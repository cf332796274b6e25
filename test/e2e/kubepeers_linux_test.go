//go:build linux

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/kube"
	"github.com/foveanet/fovea/test/traffic"
)

// kubePeersPrefix keeps this test's cluster apart: it deletes Node objects.
const kubePeersPrefix = "foveakpr-"

// relayClusterRolePath is the Helm chart's ClusterRole for the relay.
const relayClusterRolePath = "../../helm/fovea/rbac/relay.yaml"

// TestRelayKubernetesPeers runs `fovea relay --kubernetes-peers` with a
// token bound to the chart's relay ClusterRole only: it finds the agents at
// the addresses of the Node objects, follows Nodes deleted and created, and
// keeps its agents while the API server is down, as the real hubble CLI
// shows through it.
func TestRelayKubernetesPeers(t *testing.T) {
	e := setupKube(t, kubePeersPrefix, demo.ListenTCP(fmt.Sprintf(":%d", demo.AgentPort)))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	role, err := kube.ReadClusterRole(relayClusterRolePath)
	if err != nil {
		t.Fatal(err)
	}
	token, err := kube.BindServiceAccount(ctx, e.api.Admin, role, "kube-system", "fovea-relay")
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "relay-kubeconfig")
	if err := kube.WriteKubeconfig(kubeconfig, e.api.Host, e.api.CA, token); err != nil {
		t.Fatal(err)
	}
	relayClient := clientFor(t, kubeconfig, e.api)
	// The token reads Nodes and nothing else.
	if _, err := relayClient.CoreV1().Pods("").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("list pods with the relay's ClusterRole: %v, want Forbidden", err)
	}

	// The relay runs on node1, as a pod of the host network would, and
	// reaches the API server as the agents do.
	node := e.cluster.Topology.Nodes[0].Name
	sock := filepath.Join(e.cluster.NodeStateDir(node), "relay-kube.sock")
	relay, err := e.cluster.StartProcess(t.Context(), node, cluster.ProcessSpec{
		Name: "relay-kube", Path: e.fovea, StopTimeout: 10 * time.Second,
		Args: []string{"relay", "--socket-path", sock, "--listen-address", "",
			"--kubernetes-peers", "--kubeconfig", kubeconfig, "--peer-port", fmt.Sprint(demo.AgentPort), "--peer-insecure",
			"--retry-timeout", "2s", "--peer-update-interval", "500ms", "--sort-buffer-drain-timeout", "500ms",
			"--metrics-address", relayMetricsAddress},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if data, err := os.ReadFile(relay.StderrPath); err == nil {
				fmt.Fprintf(os.Stderr, "=== relay-kube stderr\n%s\n", data)
			}
		}
	})

	var all []string
	for _, n := range e.cluster.Topology.Nodes {
		all = append(all, "default/"+n.Name)
	}
	eventually(t, 30*time.Second, func() error {
		if _, err := os.Stat(sock); err != nil {
			return fmt.Errorf("relay socket: %w", err)
		}
		return connectedNodes(e.hubble(t, sock, "list", "nodes"), all)
	})

	// A connection each way between the nodes: both nodes' flows come
	// through the relay.
	var conns []traffic.Conn
	for _, pair := range [][2]int{{0, 2}, {3, 1}} {
		src, _ := e.pod(pair[0])
		dst, _ := e.pod(pair[1])
		c, err := traffic.TCPShort(ctx, src, dst, traffic.IPv4)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	eventually(t, 15*time.Second, func() error {
		flows := e.observeJSON(t, sock, "--last", "100000")
		if got := nodeNames(flows); !slices.Equal(got, all) {
			return fmt.Errorf("flows from nodes %v, want %v", got, all)
		}
		for _, c := range conns {
			if requests, _ := connFlows(c, flows); !slices.Equal(nodeNames(requests), all) {
				return fmt.Errorf("request flows of %s from nodes %v, want %v", c, nodeNames(requests), all)
			}
		}
		return nil
	})

	// A Node deleted: its agent leaves the relay; created again: it is back.
	gone := e.cluster.Topology.Nodes[1]
	nodes := e.api.Admin.CoreV1().Nodes()
	deleteNode := func() {
		t.Helper()
		if err := nodes.Delete(ctx, gone.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		deleted := time.Now()
		eventually(t, 45*time.Second, func() error {
			return connectedNodes(e.hubble(t, sock, "list", "nodes"), all[:1])
		})
		t.Logf("Node %s deleted: gone from hubble list nodes in %v", gone.Name, time.Since(deleted).Round(100*time.Millisecond))
	}
	createNode := func() {
		t.Helper()
		if err := kube.CreateNode(ctx, e.api.Admin, gone.Name, gone.IPv4, gone.IPv6); err != nil {
			t.Fatal(err)
		}
		created := time.Now()
		eventually(t, 15*time.Second, func() error {
			return connectedNodes(e.hubble(t, sock, "list", "nodes"), all)
		})
		t.Logf("Node %s created: connected in hubble list nodes in %v", gone.Name, time.Since(created).Round(100*time.Millisecond))
	}
	deleteNode()
	createNode()

	// The API server down: the relay keeps the agents it knows and serves
	// their flows; back: it follows Node changes again, once its informer
	// has listed and watched anew.
	e.api.KillAPIServer()
	down := time.Now()
	for time.Since(down) < 5*time.Second {
		if err := connectedNodes(e.hubble(t, sock, "list", "nodes"), all); err != nil {
			t.Fatalf("API server down: %v", err)
		}
		if got := nodeNames(e.observeJSON(t, sock, "--last", "100")); !slices.Equal(got, all) {
			t.Fatalf("API server down: flows from nodes %v, want %v", got, all)
		}
		time.Sleep(time.Second)
	}
	// It counted the failures and says the server is unreachable, once
	// its informer has retried.
	relayMetric := func(name string) float64 { return mustMetric(t, e.cluster, node, relayMetricsAddress, name) }
	eventually(t, 30*time.Second, func() error {
		if got := relayMetric("fovea_relay_kubernetes_api_errors_total"); got == 0 {
			return errors.New("fovea_relay_kubernetes_api_errors_total = 0 with the API server down")
		}
		if got := relayMetric("fovea_relay_kubernetes_api_reachable"); got != 0 {
			return fmt.Errorf("fovea_relay_kubernetes_api_reachable = %v with the API server down, want 0", got)
		}
		return nil
	})
	if err := e.api.RestartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	// Deleted right after the restart: how soon the relay sees it is how
	// soon it follows Nodes again.
	deleteNode()
	createNode()
	// Following Nodes took answered requests; a retry that failed
	// before them may still be counted after one, so wait for the gauge.
	eventually(t, 30*time.Second, func() error {
		if got := relayMetric("fovea_relay_kubernetes_api_reachable"); got != 1 {
			return fmt.Errorf("fovea_relay_kubernetes_api_reachable = %v once it follows Nodes again, want 1", got)
		}
		return nil
	})
	select {
	case <-relay.Done():
		t.Fatalf("relay exited: %v", relay.Err())
	default:
	}
}

// connectedNodes checks that `hubble list nodes` output lists exactly want,
// all connected.
func connectedNodes(out string, want []string) error {
	var got []string
	for line := range strings.Lines(out) {
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[0] == "NAME" {
			continue
		}
		if fields[1] != "Connected" {
			return fmt.Errorf("hubble list nodes shows %s %s:\n%s", fields[0], fields[1], out)
		}
		got = append(got, fields[0])
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		return fmt.Errorf("hubble list nodes shows %v connected, want %v:\n%s", got, want, out)
	}
	return nil
}

// clientFor is a client with the credentials of kubeconfig, dialling the API
// server as the control plane's own clients do.
func clientFor(t *testing.T, kubeconfig string, api *kube.ControlPlane) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dial = api.RESTConfig("").Dial
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
