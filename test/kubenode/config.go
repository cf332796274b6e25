package kubenode

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
)

// The node's fixed addressing, inside its own network namespace: the
// node's address (the API server's too) on its uplink, and the pods'
// range on the CNI bridge.
var (
	NodeAddr = netip.MustParseAddr("10.251.0.2")
	PodCIDR  = netip.MustParsePrefix("10.252.0.0/24")
)

// NodeName is the Kubernetes name of the node.
const NodeName = "node1"

// Bins are the programs of the cluster, built by `make kube-node-tools`.
type Bins struct {
	Etcd, APIServer, ControllerManager, Scheduler, Kubelet, KubeProxy string
}

// BinsFromEnv reads Bins from the environment `make` sets.
func BinsFromEnv() (Bins, error) {
	b := Bins{
		Etcd: os.Getenv("ETCD_BIN"), APIServer: os.Getenv("KUBE_APISERVER_BIN"),
		ControllerManager: os.Getenv("KUBE_CONTROLLER_MANAGER_BIN"), Scheduler: os.Getenv("KUBE_SCHEDULER_BIN"),
		Kubelet: os.Getenv("KUBELET_BIN"), KubeProxy: os.Getenv("KUBE_PROXY_BIN"),
	}
	for env, path := range map[string]string{"ETCD_BIN": b.Etcd, "KUBE_APISERVER_BIN": b.APIServer,
		"KUBE_CONTROLLER_MANAGER_BIN": b.ControllerManager, "KUBE_SCHEDULER_BIN": b.Scheduler,
		"KUBELET_BIN": b.Kubelet, "KUBE_PROXY_BIN": b.KubeProxy} {
		if path == "" {
			return b, fmt.Errorf("%s is not set: run the test with `make kube-node`", env)
		}
		if _, err := os.Stat(path); err != nil {
			return b, fmt.Errorf("%s: %w", env, err)
		}
	}
	return b, nil
}

// Config describes the cluster to start.
type Config struct {
	// Netns names the node's network namespace; it is deleted first if an
	// earlier run left it.
	Netns string
	// Dir holds every component's state, configuration and logs.
	Dir  string
	Bins Bins
	// SandboxImage is containerd's pause image, one of Images.
	SandboxImage string
	// Images are image tarballs imported into containerd (no registry is
	// reachable): the sandbox image and those the pods run.
	Images []string
	Logger *slog.Logger
}
