//go:build linux

package kube

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestAPIServerOutages kills, restarts, pauses and resumes kube-apiserver,
// and wants objects created before the outages to survive them.
func TestAPIServerOutages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cp, err := Start(ctx, Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cp.Close)
	namespaces := cp.Admin.CoreV1().Namespaces()
	if _, err := namespaces.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kept"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	get := func(limit time.Duration) error {
		ctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		_, err := namespaces.Get(ctx, "kept", metav1.GetOptions{})
		return err
	}

	cp.KillAPIServer()
	if err := get(5 * time.Second); err == nil {
		t.Fatal("get namespace with kube-apiserver killed: no error")
	}
	if err := cp.RestartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := get(10 * time.Second); err != nil {
		t.Fatalf("get namespace after the restart: %v", err)
	}
	if err := cp.RestartAPIServer(ctx); err == nil {
		t.Fatal("restart of a running kube-apiserver: no error")
	}

	if err := cp.PauseAPIServer(); err != nil {
		t.Fatal(err)
	}
	if err := get(2 * time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("get namespace with kube-apiserver paused: %v, want a timeout", err)
	}
	if err := cp.ResumeAPIServer(); err != nil {
		t.Fatal(err)
	}
	if err := get(10 * time.Second); err != nil {
		t.Fatalf("get namespace after resuming: %v", err)
	}
	// Close must not wait on a paused server.
	if err := cp.PauseAPIServer(); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	cp.Close()
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("close of a paused control plane took %v", took)
	}
}
