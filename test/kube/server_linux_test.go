//go:build linux

package kube

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// clusterRolePath is the Helm chart's ClusterRole, relative to this package.
const clusterRolePath = "../../helm/fovea/rbac/agent.yaml"

func TestControlPlane(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	began := time.Now()
	cp, err := Start(ctx, Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cp.Close)
	t.Logf("control plane ready in %v at %s", time.Since(began).Round(time.Millisecond), cp.Host)

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}
	if _, err := cp.Admin.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace as admin: %v", err)
	}

	role, err := ReadClusterRole(clusterRolePath)
	if err != nil {
		t.Fatal(err)
	}
	token, err := BindServiceAccount(ctx, cp.Admin, role, "kube-system", "fovea")
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := WriteKubeconfig(kubeconfig, cp.Host, cp.CA, token); err != nil {
		t.Fatal(err)
	}
	restCfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	agent, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	// What the agent's informers do must be allowed...
	if _, err := agent.CoreV1().Pods("").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("list pods with the chart's ClusterRole: %v", err)
	}
	if _, err := agent.CoreV1().Namespaces().Get(ctx, "shop", metav1.GetOptions{}); err != nil {
		t.Errorf("get namespace with the chart's ClusterRole: %v", err)
	}
	// ...and nothing more: the token is not an admin's.
	_, err = agent.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "denied"}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("create namespace with the chart's ClusterRole: got %v, want Forbidden", err)
	}
	if _, err := agent.CoreV1().Secrets("").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list secrets with the chart's ClusterRole: got %v, want Forbidden", err)
	}
}

func TestReadClusterRoleRejectsOtherKinds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "role.yaml")
	if err := os.WriteFile(path, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadClusterRole(path); err == nil {
		t.Fatal("ReadClusterRole accepted a ConfigMap")
	}
}
