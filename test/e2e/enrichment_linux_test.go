//go:build linux

package e2e

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/traffic"
)

// checkPodEndpoint fails t unless end, one end of a flow the agent at sock
// served, is pod as Cilium would label it: its namespace and name, its
// Deployment (named after its app label), a cluster-local identity, its app
// and namespace labels, and no pod-template-hash (which Cilium leaves out of
// identities).
func checkPodEndpoint(t *testing.T, sock string, end *flowpb.Endpoint, pod cluster.Pod) {
	t.Helper()
	app := pod.Labels["app"]
	if end.GetNamespace() != pod.Namespace || end.GetPodName() != pod.Name {
		t.Errorf("%s: endpoint %s/%s, want %s", sock, end.GetNamespace(), end.GetPodName(), pod.Key())
	}
	if w := end.GetWorkloads(); len(w) != 1 || w[0].GetKind() != "Deployment" || w[0].GetName() != app {
		t.Errorf("%s: %s workloads = %v, want Deployment/%s", sock, pod.Name, w, app)
	}
	if id := end.GetIdentity(); id < 256 || id > 65535 {
		t.Errorf("%s: %s identity = %d, want a cluster-local identity", sock, pod.Name, id)
	}
	if !slices.Contains(end.GetLabels(), "k8s:app="+app) ||
		!slices.Contains(end.GetLabels(), "k8s:io.kubernetes.pod.namespace="+pod.Namespace) {
		t.Errorf("%s: %s labels = %v", sock, pod.Name, end.GetLabels())
	}
	if slices.ContainsFunc(end.GetLabels(), func(l string) bool { return strings.Contains(l, "pod-template-hash") }) {
		t.Errorf("%s: labels %v include pod-template-hash, which Cilium leaves out of identities", sock, end.GetLabels())
	}
}

// filterCase is a hubble observe filter and whether it finds a request.
type filterCase struct {
	args []string
	want bool
}

// podFilters are hubble filters that find a request from src to dst (src
// of identity srcID) picked out by its source port, and ones naming
// something else, which do not. hubble pairs the sides of --label and
// --port: the port is the source's, so the label is too.
func podFilters(src, dst cluster.Pod, srcID uint32) []filterCase {
	id := strconv.Itoa(int(srcID))
	return []filterCase{
		{[]string{"--pod", src.Key()}, true},
		{[]string{"--from-pod", src.Key(), "--to-pod", dst.Key()}, true},
		{[]string{"--to-pod", src.Key()}, false},
		{[]string{"--namespace", src.Namespace}, true},
		{[]string{"--namespace", "kube-system"}, false},
		{[]string{"--label", "app=" + src.Labels["app"]}, true},
		{[]string{"--to-label", "app=" + dst.Labels["app"]}, true},
		{[]string{"--from-label", "app=" + dst.Labels["app"]}, false},
		{[]string{"--workload", "Deployment/" + src.Labels["app"]}, true},
		{[]string{"--to-workload", dst.Labels["app"]}, true},
		{[]string{"--workload", "StatefulSet/" + src.Labels["app"]}, false},
		{[]string{"--identity", id}, true},
		{[]string{"--from-identity", id}, true},
		{[]string{"--to-identity", id}, false},
	}
}

// checkFilters fails t for each case whose filter, with c's source port,
// does (not) find c's request at the agent at sock as it wants.
func (e *env) checkFilters(t *testing.T, sock string, c traffic.Conn, cases []filterCase) {
	t.Helper()
	conn := []string{"--last", "100000", "--port", strconv.Itoa(int(c.Src.Port))}
	for _, f := range cases {
		requests, _ := connFlows(c, e.observeJSON(t, sock, append(conn, f.args...)...))
		if got := len(requests) > 0; got != f.want {
			t.Errorf("%s: hubble observe %s found the request: %v, want %v", sock, strings.Join(f.args, " "), got, f.want)
		}
	}
}
