package kube

import (
	"fmt"
	"os"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/model/intern"
)

// RESTConfig is the client configuration of the cluster the kubeconfig file
// at path describes, or of the cluster the process runs in when path is
// empty.
func RESTConfig(path, userAgent string) (*rest.Config, error) {
	var (
		cfg *rest.Config
		err error
	)
	if path == "" {
		cfg, err = rest.InClusterConfig()
	} else {
		cfg, err = clientcmd.BuildConfigFromFlags("", path)
	}
	if err != nil {
		return nil, fmt.Errorf("load Kubernetes client config: %w", err)
	}
	cfg.UserAgent = userAgent
	return cfg, nil
}

// InCluster reports whether the process runs in a Kubernetes pod, where
// the in-cluster configuration applies.
func InCluster() bool { return os.Getenv("KUBERNETES_SERVICE_HOST") != "" }

// NewFromKubeconfig returns a watcher of the cluster the kubeconfig file at
// path describes, or of the cluster the process runs in when path is
// empty. Failed API requests are counted, logged and published (see
// WithNotify) as they happen, while client-go retries them.
func NewFromKubeconfig(path, cluster string, tables *intern.Tables, store *endpoints.Store, opts ...Option) (*Watcher, error) {
	cfg, err := RESTConfig(path, "fovea-agent")
	if err != nil {
		return nil, err
	}
	// New gives health the watcher's logger and notify before Run makes
	// the first request.
	health := NewAPIHealth("fovea", nil, nil)
	health.Wrap(cfg)
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create Kubernetes client: %w", err)
	}
	return New(client, cluster, tables, store, append(opts, withHealth(health))...)
}
