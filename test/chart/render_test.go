package chart

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/foveanet/fovea/test/kube"
)

func tools(t *testing.T) Tools {
	t.Helper()
	tl, err := ToolsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// rendered is a render of the chart, validated by kubeconform.
type rendered struct {
	objs []*unstructured.Unstructured
}

func render(t *testing.T, tl Tools, chart string, args ...string) rendered {
	t.Helper()
	manifest, err := tl.Template(chart, args...)
	if err != nil {
		t.Fatal(err)
	}
	if err := tl.Validate(manifest); err != nil {
		t.Fatalf("helm template %s: %v", strings.Join(args, " "), err)
	}
	objs, err := Parse(manifest)
	if err != nil {
		t.Fatal(err)
	}
	return rendered{objs}
}

func (r rendered) all(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range r.objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// get decodes the object of kind and name into out, failing the test if
// there is none.
func (r rendered) get(t *testing.T, kind, name string, out any) {
	t.Helper()
	for _, o := range r.all(kind) {
		if o.GetName() == name {
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, out); err != nil {
				t.Fatalf("%s %s: %v", kind, name, err)
			}
			return
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
}

func (r rendered) has(kind, name string) bool {
	for _, o := range r.all(kind) {
		if o.GetName() == name {
			return true
		}
	}
	return false
}

func (r rendered) agent(t *testing.T) *appsv1.DaemonSet {
	t.Helper()
	ds := &appsv1.DaemonSet{}
	r.get(t, "DaemonSet", "fovea-agent", ds)
	return ds
}

func (r rendered) relay(t *testing.T) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	r.get(t, "Deployment", "fovea-relay", d)
	return d
}

func env(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func volume(spec corev1.PodSpec, name string) *corev1.Volume {
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == name {
			return &spec.Volumes[i]
		}
	}
	return nil
}

func hasArg(c corev1.Container, arg string) bool { return slices.Contains(c.Args, arg) }

// TestDefaults checks what a default install runs: the image make image
// builds, the agent's privileges and mounts, its probes and memory limit,
// the relay finding agents through Kubernetes, the RBAC of the rbac/
// files, and certificates the relay and the agents accept of each other.
func TestDefaults(t *testing.T) {
	tl := tools(t)
	r := render(t, tl, ChartDir)

	agent, relay := r.agent(t), r.relay(t)
	ac, rc := agent.Spec.Template.Spec.Containers[0], relay.Spec.Template.Spec.Containers[0]
	if ac.Image != tl.Image || rc.Image != tl.Image {
		t.Errorf("images %q and %q, want %q, the image make image builds", ac.Image, rc.Image, tl.Image)
	}

	pod := agent.Spec.Template.Spec
	if !pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Errorf("agent hostNetwork %v hostPID %v hostIPC %v, want only hostNetwork", pod.HostNetwork, pod.HostPID, pod.HostIPC)
	}
	sc := ac.SecurityContext
	caps := fmt.Sprint(sc.Capabilities.Add)
	if caps != "[BPF NET_ADMIN PERFMON]" || fmt.Sprint(sc.Capabilities.Drop) != "[ALL]" || *sc.Privileged || *sc.RunAsUser != 0 {
		t.Errorf("agent security context %+v, want root with BPF, NET_ADMIN and PERFMON only", sc)
	}
	if len(pod.Tolerations) != 1 || pod.Tolerations[0].Operator != corev1.TolerationOpExists || pod.Tolerations[0].Key != "" {
		t.Errorf("agent tolerations %+v, want every taint", pod.Tolerations)
	}
	if pod.PriorityClassName != "system-node-critical" || pod.NodeSelector["kubernetes.io/os"] != "linux" {
		t.Errorf("agent priority %q node selector %v", pod.PriorityClassName, pod.NodeSelector)
	}
	var hostPaths []string
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			hostPaths = append(hostPaths, v.HostPath.Path)
		}
	}
	if fmt.Sprint(hostPaths) != "[/run/netns]" {
		t.Errorf("agent host paths %v, want only /run/netns", hostPaths)
	}
	for _, m := range ac.VolumeMounts {
		if m.Name == "netns" && (m.MountPropagation == nil || *m.MountPropagation != corev1.MountPropagationHostToContainer || !m.ReadOnly) {
			t.Errorf("/run/netns mount %+v, want read-only HostToContainer", m)
		}
	}
	for _, p := range []*corev1.Probe{ac.StartupProbe, ac.LivenessProbe, ac.ReadinessProbe, rc.LivenessProbe, rc.ReadinessProbe} {
		if p == nil || p.GRPC == nil {
			t.Fatalf("a probe of the agent or relay is not a gRPC probe: %+v", p)
		}
	}
	if ac.ReadinessProbe.GRPC.Port != 4246 || !hasArg(ac, "--health-address=:4246") || rc.ReadinessProbe.GRPC.Port != 4222 || !hasArg(rc, "--health-address=:4222") {
		t.Errorf("probe ports %d and %d do not match the health addresses in %q and %q", ac.ReadinessProbe.GRPC.Port, rc.ReadinessProbe.GRPC.Port, ac.Args, rc.Args)
	}
	limit := ac.Resources.Limits[corev1.ResourceMemory]
	if want := fmt.Sprint(limit.Value() * 9 / 10); env(ac, "GOMEMLIMIT") != want {
		t.Errorf("agent GOMEMLIMIT %q, want 90%% of %s: %s", env(ac, "GOMEMLIMIT"), limit.String(), want)
	}
	if !hasArg(rc, "--kubernetes-peers") || !hasArg(rc, "--peer-port=4244") || *rc.SecurityContext.RunAsUser == 0 {
		t.Errorf("relay args %q, user %d", rc.Args, *rc.SecurityContext.RunAsUser)
	}
	svc := &corev1.Service{}
	r.get(t, "Service", "fovea-relay", svc)
	if svc.Spec.Ports[0].Port != 4245 {
		t.Errorf("relay Service port %d, want 4245", svc.Spec.Ports[0].Port)
	}
	if r.has("ServiceMonitor", "fovea-agent") || agent.Spec.Template.Annotations["prometheus.io/scrape"] != "true" {
		t.Errorf("without the ServiceMonitor API: want scrape annotations and no ServiceMonitor, got annotations %v", agent.Spec.Template.Annotations)
	}

	for _, c := range []struct{ component, file string }{{"agent", "rbac/agent.yaml"}, {"relay", "rbac/relay.yaml"}} {
		want, err := kube.ReadClusterRole(filepath.Join(ChartDir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		got := &rbacv1.ClusterRole{}
		r.get(t, "ClusterRole", "fovea-"+c.component, got)
		if !reflect.DeepEqual(got.Rules, want.Rules) {
			t.Errorf("ClusterRole fovea-%s rules %+v, want those of %s: %+v", c.component, got.Rules, c.file, want.Rules)
		}
		binding := &rbacv1.ClusterRoleBinding{}
		r.get(t, "ClusterRoleBinding", "fovea-"+c.component, binding)
		if binding.Subjects[0].Name != "fovea-"+c.component {
			t.Errorf("ClusterRole fovea-%s bound to %+v", c.component, binding.Subjects)
		}
	}
	if agent.Spec.Template.Spec.ServiceAccountName != "fovea-agent" || relay.Spec.Template.Spec.ServiceAccountName != "fovea-relay" {
		t.Error("the agent and the relay do not run as their own ServiceAccounts")
	}

	checkCertificates(t, r, agent, relay)
}

// checkCertificates checks that the agents' certificate carries the name
// the relay checks and that each side's certificate chains to the CA the
// other trusts.
func checkCertificates(t *testing.T, r rendered, agent *appsv1.DaemonSet, relay *appsv1.Deployment) {
	t.Helper()
	secret := func(pod corev1.PodSpec) map[string][]byte {
		v := volume(pod, "tls")
		if v == nil || v.Secret == nil {
			t.Fatal("no tls Secret volume")
		}
		s := &corev1.Secret{}
		r.get(t, "Secret", v.Secret.SecretName, s)
		return s.Data
	}
	parse := func(data []byte) *x509.Certificate {
		block, _ := pem.Decode(data)
		if block == nil {
			t.Fatal("no PEM certificate")
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	agentTLS, relayTLS := secret(agent.Spec.Template.Spec), secret(relay.Spec.Template.Spec)
	relayTrusts, agentTrusts := x509.NewCertPool(), x509.NewCertPool()
	relayTrusts.AppendCertsFromPEM(relayTLS["ca.crt"])
	agentTrusts.AppendCertsFromPEM(agentTLS["ca.crt"])
	if _, err := parse(agentTLS["tls.crt"]).Verify(x509.VerifyOptions{
		DNSName: "node-1.default.hubble-grpc.cilium.io", Roots: relayTrusts, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}); err != nil {
		t.Errorf("the relay would refuse the agent's certificate: %v", err)
	}
	if _, err := parse(relayTLS["tls.crt"]).Verify(x509.VerifyOptions{
		Roots: agentTrusts, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		t.Errorf("the agents would refuse the relay's certificate: %v", err)
	}
}

// TestModes renders the chart with each mode the values offer and checks
// what each changes; every render passes kubeconform -strict.
func TestModes(t *testing.T) {
	tl := tools(t)
	for _, c := range []struct {
		name  string
		args  []string
		check func(*testing.T, rendered)
	}{
		{"tls certManager with the chart's CA", []string{"--set", "tls.mode=certManager"}, func(t *testing.T, r rendered) {
			checkCertManager(t, r, "fovea-ca")
			if !r.has("Issuer", "fovea-selfsigned") || len(r.all("Secret")) != 0 {
				t.Error("want a self-signed Issuer and no Secret of the chart's")
			}
		}},
		{"tls certManager with an issuer", []string{"--set", "tls.mode=certManager", "--set", "tls.certManager.issuerRef.name=corp", "--set", "tls.certManager.issuerRef.kind=ClusterIssuer"}, func(t *testing.T, r rendered) {
			checkCertManager(t, r, "corp")
			if len(r.all("Issuer")) != 0 {
				t.Error("an Issuer was rendered beside the one given")
			}
		}},
		{"tls secrets", []string{"--set", "tls.mode=secrets", "--set", "tls.secrets.agent=my-agent", "--set", "tls.secrets.relay=my-relay"}, func(t *testing.T, r rendered) {
			a, rl := volume(r.agent(t).Spec.Template.Spec, "tls"), volume(r.relay(t).Spec.Template.Spec, "tls")
			if a.Secret.SecretName != "my-agent" || rl.Secret.SecretName != "my-relay" || len(r.all("Secret")) != 0 {
				t.Errorf("Secrets %s and %s mounted, %d rendered; want the given ones only", a.Secret.SecretName, rl.Secret.SecretName, len(r.all("Secret")))
			}
		}},
		{"tls disabled", []string{"--set", "tls.mode=disabled"}, func(t *testing.T, r rendered) {
			ac, rc := r.agent(t).Spec.Template.Spec.Containers[0], r.relay(t).Spec.Template.Spec.Containers[0]
			if !hasArg(ac, "--insecure") || !hasArg(rc, "--peer-insecure") || volume(r.agent(t).Spec.Template.Spec, "tls") != nil {
				t.Errorf("agent args %q, relay args %q", ac.Args, rc.Args)
			}
		}},
		{"ServiceMonitors", []string{"--api-versions", "monitoring.coreos.com/v1/ServiceMonitor"}, func(t *testing.T, r rendered) {
			if len(r.all("ServiceMonitor")) != 2 || r.agent(t).Spec.Template.Annotations["prometheus.io/scrape"] != "" {
				t.Errorf("%d ServiceMonitors, agent annotations %v; want 2 and no scrape annotation", len(r.all("ServiceMonitor")), r.agent(t).Spec.Template.Annotations)
			}
		}},
		{"Hubble UI", []string{"--set", "ui.enabled=true"}, func(t *testing.T, r rendered) {
			ui := &appsv1.Deployment{}
			r.get(t, "Deployment", "fovea-hubble-ui", ui)
			var backend corev1.Container
			for _, c := range ui.Spec.Template.Spec.Containers {
				if !strings.Contains(c.Image, ":v0.13.6@sha256:") {
					t.Errorf("Hubble UI image %s is not pinned by tag and digest", c.Image)
				}
				if c.Name == "backend" {
					backend = c
				}
			}
			if got := env(backend, "FLOWS_API_ADDR"); got != "fovea-relay.kube-system.svc:4245" {
				t.Errorf("the UI backend reads flows from %q, want the relay Service", got)
			}
			if ui.Spec.Template.Spec.ServiceAccountName != "fovea-hubble-ui" || !r.has("ClusterRole", "fovea-hubble-ui") {
				t.Error("the UI backend has no ServiceAccount and ClusterRole of its own")
			}
		}},
		{"Windows", []string{"--set", "agent.windows.enabled=true"}, func(t *testing.T, r rendered) {
			ds := &appsv1.DaemonSet{}
			r.get(t, "DaemonSet", "fovea-agent-windows", ds)
			pod := ds.Spec.Template.Spec
			if pod.SecurityContext.WindowsOptions == nil || !*pod.SecurityContext.WindowsOptions.HostProcess || pod.NodeSelector["kubernetes.io/os"] != "windows" || !pod.HostNetwork {
				t.Errorf("Windows agent pod %+v, want a HostProcess pod on Windows nodes", pod.SecurityContext)
			}
			// The series bounds hold on Windows nodes too.
			if c := pod.Containers[0]; !hasArg(c, "--metrics-series-limit=10000") || !hasArg(c, "--metrics-series-ttl=5m") {
				t.Errorf("Windows agent args %q lack the series bounds", c.Args)
			}
		}},
		{"flow metrics and no metrics port", []string{"--set", "agent.metrics.flows=dns:query drop", "--set", "relay.metrics.port=0"}, func(t *testing.T, r rendered) {
			if !hasArg(r.agent(t).Spec.Template.Spec.Containers[0], "--metrics=dns:query drop") || r.has("Service", "fovea-relay-metrics") {
				t.Errorf("agent args %q", r.agent(t).Spec.Template.Spec.Containers[0].Args)
			}
		}},
		{"a 1Gi memory limit", []string{"--set", "agent.resources.limits.memory=1Gi"}, func(t *testing.T, r rendered) {
			gi := resource.MustParse("1Gi")
			if got, want := env(r.agent(t).Spec.Template.Spec.Containers[0], "GOMEMLIMIT"), fmt.Sprint(gi.Value()*9/10); got != want {
				t.Errorf("GOMEMLIMIT %s, want %s", got, want)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) { c.check(t, render(t, tl, ChartDir, c.args...)) })
	}
}

func checkCertManager(t *testing.T, r rendered, issuer string) {
	t.Helper()
	for _, c := range []struct{ cert, volume string }{{"fovea-agent-tls", volume(r.agent(t).Spec.Template.Spec, "tls").Secret.SecretName}, {"fovea-relay-client-tls", volume(r.relay(t).Spec.Template.Spec, "tls").Secret.SecretName}} {
		cert := &unstructured.Unstructured{}
		r.get(t, "Certificate", c.cert, &cert.Object)
		secretName, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
		issuerName, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "name")
		if secretName != c.volume || issuerName != issuer {
			t.Errorf("Certificate %s writes %q (pods mount %q), issued by %q (want %q)", c.cert, secretName, c.volume, issuerName, issuer)
		}
	}
}

// TestDashboards copies the chart with a dashboard in dashboards/ and
// checks that it is served in a ConfigMap the Grafana sidecar picks up;
// without one, none is rendered.
func TestDashboards(t *testing.T) {
	tl := tools(t)
	if r := render(t, tl, ChartDir); r.has("ConfigMap", "fovea-dashboards") != hasDashboards(t) {
		t.Errorf("dashboards ConfigMap rendered: %v, dashboards in the chart: %v", r.has("ConfigMap", "fovea-dashboards"), hasDashboards(t))
	}
	chart := filepath.Join(t.TempDir(), "fovea")
	if err := os.CopyFS(chart, os.DirFS(ChartDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(chart, "dashboards"), 0o755); err != nil {
		t.Fatal(err)
	}
	const dashboard = `{"title": "test flows", "panels": []}`
	if err := os.WriteFile(filepath.Join(chart, "dashboards", "zz-test.json"), []byte(dashboard), 0o644); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{}
	render(t, tl, chart).get(t, "ConfigMap", "fovea-dashboards", cm)
	if cm.Labels["grafana_dashboard"] != "1" || strings.TrimSpace(cm.Data["zz-test.json"]) != dashboard {
		t.Errorf("dashboards ConfigMap labels %v data %v", cm.Labels, cm.Data)
	}
}

func hasDashboards(t *testing.T) bool {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(ChartDir, "dashboards", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m) > 0
}
