//go:build linux

package chart

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/foveanet/fovea/test/kube"
)

// apiServer is a real etcd + kube-apiserver of the pinned release, with
// the CRDs of the chart's optional objects, and an admin kubeconfig for
// helm.
type apiServer struct {
	cp         *kube.ControlPlane
	kubeconfig string
	dyn        dynamic.Interface
	mapper     *restmapper.DeferredDiscoveryRESTMapper
}

func startAPIServer(t *testing.T, ctx context.Context, tl Tools) *apiServer {
	t.Helper()
	cp, err := kube.Start(ctx, kube.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cp.Close)
	a := &apiServer{cp: cp, kubeconfig: filepath.Join(t.TempDir(), "kubeconfig")}
	if err := kube.WriteKubeconfig(a.kubeconfig, cp.Host, cp.CA, cp.AdminToken); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", a.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if a.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	disco, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco.Discovery()))

	crds, err := filepath.Glob(filepath.Join(tl.CRDs, "*.yaml"))
	if err != nil || len(crds) == 0 {
		t.Fatalf("no CRDs in %s: %v", tl.CRDs, err)
	}
	crdResource := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	for _, f := range crds {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.dyn.Resource(crdResource).Create(ctx, objs[0], metav1.CreateOptions{}); err != nil {
			t.Fatalf("create CRD %s: %v", f, err)
		}
	}
	// Helm reads the served APIs from discovery: wait until the CRDs are
	// served, so the chart sees the ServiceMonitor API.
	deadline := time.Now().Add(30 * time.Second)
	for {
		a.mapper.Reset()
		_, err := a.mapper.RESTMapping(schema.GroupKind{Group: "monitoring.coreos.com", Kind: "ServiceMonitor"}, "v1")
		_, err2 := a.mapper.RESTMapping(schema.GroupKind{Group: "cert-manager.io", Kind: "Certificate"}, "v1")
		if err == nil && err2 == nil {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("CRDs not served after 30s: %v, %v", err, err2)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (a *apiServer) helm(t *testing.T, tl Tools, args ...string) {
	t.Helper()
	if _, err := Run(tl.Helm, append(args, "--kubeconfig", a.kubeconfig)...); err != nil {
		t.Fatal(err)
	}
}

func (a *apiServer) resource(t *testing.T, o *unstructured.Unstructured) dynamic.ResourceInterface {
	t.Helper()
	gvk := o.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Fatalf("%s: %v", gvk, err)
	}
	if m.Scope.Name() == "namespace" {
		return a.dyn.Resource(m.Resource).Namespace(o.GetNamespace())
	}
	return a.dyn.Resource(m.Resource)
}

// TestInstallOnAPIServer installs the chart on a real kube-apiserver of the
// pinned release: every object the API server takes with strict field
// validation, the ServiceMonitors appear because the API is served, each
// component's ServiceAccount may do what the rbac/ files say and no more,
// an upgrade keeps the generated certificates, a switch to cert-manager
// makes Certificates, and uninstall leaves nothing of the release.
func TestInstallOnAPIServer(t *testing.T) {
	tl := tools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	a := startAPIServer(t, ctx, tl)

	manifest, err := Run(tl.Helm, "template", "fovea", ChartDir, "--namespace", "kube-system", "--kubeconfig", a.kubeconfig,
		"--dry-run=server", "--set", "ui.enabled=true", "--set", "agent.windows.enabled=true")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Parse(manifest)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, o := range objs {
		kinds[o.GetKind()] = true
		if _, err := a.resource(t, o).Create(ctx, o, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}); err != nil {
			t.Errorf("%s %s: the API server refuses it: %v", o.GetKind(), o.GetName(), err)
		}
	}
	if !kinds["ServiceMonitor"] {
		t.Errorf("rendered against an API server serving monitoring.coreos.com/v1, the chart made no ServiceMonitor (kinds %v)", slices.Collect(maps.Keys(kinds)))
	}

	a.helm(t, tl, "install", "fovea", ChartDir, "--namespace", "kube-system", "--set", "ui.enabled=true")
	secrets := a.tlsSecrets(t, ctx)
	a.checkAccess(t, ctx)

	a.helm(t, tl, "upgrade", "fovea", ChartDir, "--namespace", "kube-system", "--set", "ui.enabled=true", "--set", "agent.config.ring-capacity=8191")
	if again := a.tlsSecrets(t, ctx); !reflect.DeepEqual(again, secrets) {
		t.Error("helm upgrade replaced the generated certificates: agents and relay would stop trusting each other mid-rollout")
	}

	a.helm(t, tl, "upgrade", "fovea", ChartDir, "--namespace", "kube-system", "--set", "tls.mode=certManager")
	certs, err := a.dyn.Resource(schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}).Namespace("kube-system").List(ctx, metav1.ListOptions{})
	if err != nil || len(certs.Items) != 3 {
		t.Errorf("with tls.mode certManager: %v Certificates (%v), want the CA's, the agents' and the relay's", len(certs.Items), err)
	}

	a.helm(t, tl, "uninstall", "fovea", "--namespace", "kube-system", "--wait")
	for _, o := range objs {
		if _, err := a.resource(t, o).Get(ctx, o.GetName(), metav1.GetOptions{}); err == nil {
			t.Errorf("%s %s is left after helm uninstall", o.GetKind(), o.GetName())
		}
	}
}

// tlsSecrets returns the data of the three Secrets of tls.mode helm.
func (a *apiServer) tlsSecrets(t *testing.T, ctx context.Context) map[string]map[string][]byte {
	t.Helper()
	out := map[string]map[string][]byte{}
	for _, name := range []string{"fovea-ca", "fovea-agent-tls", "fovea-relay-client-tls"} {
		s, err := a.cp.Admin.CoreV1().Secrets("kube-system").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("Secret %s: %v", name, err)
		}
		out[name] = s.Data
	}
	return out
}

// checkAccess asks the API server, with SubjectAccessReviews, what each
// component's ServiceAccount may do: what its rbac/ file grants, and none
// of a few things it must not.
func (a *apiServer) checkAccess(t *testing.T, ctx context.Context) {
	t.Helper()
	type access struct{ group, resource, verb string }
	for _, c := range []struct {
		account     string
		allow, deny []access
	}{
		{"fovea-agent",
			[]access{{"", "pods", "watch"}, {"", "services", "list"}, {"", "nodes", "get"}, {"", "namespaces", "watch"}, {"discovery.k8s.io", "endpointslices", "list"}},
			[]access{{"", "secrets", "get"}, {"", "pods", "create"}, {"", "configmaps", "list"}, {"", "nodes", "update"}}},
		{"fovea-relay",
			[]access{{"", "nodes", "list"}, {"", "nodes", "watch"}},
			[]access{{"", "pods", "list"}, {"", "secrets", "get"}, {"", "nodes", "patch"}}},
		{"fovea-hubble-ui",
			[]access{{"", "namespaces", "list"}, {"", "namespaces", "watch"}},
			[]access{{"", "pods", "list"}, {"", "nodes", "list"}, {"", "secrets", "list"}}},
	} {
		user := "system:serviceaccount:kube-system:" + c.account
		for i, list := range [][]access{c.allow, c.deny} {
			for _, ac := range list {
				sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
					User: user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"},
					ResourceAttributes: &authorizationv1.ResourceAttributes{Group: ac.group, Resource: ac.resource, Verb: ac.verb},
				}}
				res, err := a.cp.Admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if want := i == 0; res.Status.Allowed != want {
					t.Errorf("%s may %s %s: %v, want %v (%s)", c.account, ac.verb, fmt.Sprint(ac.group, "/", ac.resource), res.Status.Allowed, want, res.Status.Reason)
				}
			}
		}
	}
}
