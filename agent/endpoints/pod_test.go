package endpoints

import (
	"slices"
	"testing"
)

func TestIdentityLabelsCiliumForm(t *testing.T) {
	p := Pod{
		Cluster: "prod", Namespace: "demo", Name: "frontend-abc",
		Labels: map[string]string{
			"app": "frontend", "pod-template-hash": "5d9c", "app.kubernetes.io/name": "fe",
			"statefulset.kubernetes.io/pod-name": "x", "failure-domain.beta.kubernetes.io/zone": "z",
		},
		NamespaceLabels: map[string]string{"team": "web"},
	}
	want := []string{
		"k8s:app.kubernetes.io/name=fe",
		"k8s:app=frontend",
		"k8s:io.cilium.k8s.namespace.labels.team=web",
		"k8s:io.cilium.k8s.policy.cluster=prod",
		"k8s:io.cilium.k8s.policy.serviceaccount=default",
		"k8s:io.kubernetes.pod.namespace=demo",
	}
	if got := p.IdentityLabels(); !slices.Equal(got, want) {
		t.Errorf("IdentityLabels() =\n%q\nwant\n%q", got, want)
	}
}

func TestIdentityRelevant(t *testing.T) {
	for key, want := range map[string]bool{
		"app":                                 true,
		"tier":                                true,
		"io.kubernetes.pod.namespace":         true,
		"io.kubernetes.container.name":        false,
		"kubernetes.io/hostname":              false,
		"app.kubernetes.io/component":         true,
		"pod-template-hash":                   false,
		"controller-revision-hash":            false,
		"topology.kubernetes.io/zone":         false,
		"beta.kubernetes.io/arch":             false,
		"node.beta.kubernetes.io/instance":    false,
		"io.cilium.k8s.policy.serviceaccount": true,
		"annotation.foo":                      false,
	} {
		if got := IdentityRelevant(key); got != want {
			t.Errorf("IdentityRelevant(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestEndpoint(t *testing.T) {
	p := Pod{Cluster: "c1", Namespace: "demo", Name: "backend-1", ServiceAccount: "api",
		Labels: map[string]string{"app": "backend"}, Workload: Workload{Kind: "Deployment", Name: "backend"}}
	ep := p.Endpoint()
	if ep.GetNamespace() != "demo" || ep.GetPodName() != "backend-1" || ep.GetClusterName() != "c1" {
		t.Errorf("endpoint = %v", ep)
	}
	if w := ep.GetWorkloads(); len(w) != 1 || w[0].GetKind() != "Deployment" || w[0].GetName() != "backend" {
		t.Errorf("workloads = %v", w)
	}
	if !slices.Contains(ep.GetLabels(), "k8s:io.cilium.k8s.policy.serviceaccount=api") {
		t.Errorf("labels %v lack the service account", ep.GetLabels())
	}
	if id := ep.GetIdentity(); id < MinIdentity || id > MaxIdentity {
		t.Errorf("identity %d outside [%d, %d]", id, MinIdentity, MaxIdentity)
	}

	// Another replica of the same workload has the same identity; the
	// identity ignores the pod name and non-identity labels.
	q := p
	q.Name = "backend-2"
	q.Labels = map[string]string{"app": "backend", "pod-template-hash": "other"}
	if a, b := p.Endpoint().GetIdentity(), q.Endpoint().GetIdentity(); a != b {
		t.Errorf("replicas have identities %d and %d", a, b)
	}
	q.Labels = map[string]string{"app": "backend", "version": "v2"}
	if a, b := p.Endpoint().GetIdentity(), q.Endpoint().GetIdentity(); a == b {
		t.Errorf("different label sets share identity %d", a)
	}
	if (&Pod{Namespace: "x"}).Endpoint().GetWorkloads() != nil {
		t.Error("a bare pod has workloads")
	}
}

func TestIdentityStable(t *testing.T) {
	// Every agent, of every version, must derive the same number from the
	// same labels: a changed hash would split one identity across agents.
	if got := Identity([]string{"k8s:app=frontend", "k8s:io.kubernetes.pod.namespace=demo"}); got != 61481 {
		t.Fatalf("Identity = %d, want 61481", got)
	}
}
