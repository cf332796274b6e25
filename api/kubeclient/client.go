package kubeclient

import (
	"fmt"
	"os"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// restConfig is the client configuration of the cluster the kubeconfig file
// at path describes, or of the cluster the process runs in when path is
// empty.
func restConfig(path, userAgent string) (*rest.Config, error) {
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

// New returns a client of the cluster restConfig(path, userAgent) describes
// whose every request reports to health.
func New(path, userAgent string, health *APIHealth) (kubernetes.Interface, error) {
	cfg, err := Config(path, userAgent, health)
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create Kubernetes client: %w", err)
	}
	return client, nil
}

// Config returns the configuration New builds its client from, for the
// clients of APIs the Kubernetes clientset lacks (CRDs): their requests
// report to health as well.
func Config(path, userAgent string, health *APIHealth) (*rest.Config, error) {
	cfg, err := restConfig(path, userAgent)
	if err != nil {
		return nil, err
	}
	health.Wrap(cfg)
	return cfg, nil
}
