//go:build linux

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/protobuf/encoding/protojson"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/kube"
	"github.com/foveanet/fovea/test/traffic"
)

// outagePrefix keeps the outage test's cluster apart: it stops the API
// server the agents read.
const outagePrefix = "foveakdn-"

// outage is how long the API server stays down at least; maxOutageErrors
// bounds the API errors an agent counts meanwhile, far below what retrying
// without backoff would make.
const (
	outage          = 12 * time.Second
	maxOutageErrors = 100
)

// reportLimit bounds the wait for an agent event about an API error: the
// agents report at most one error per 30 s, and retry every 10 s at most.
const reportLimit = time.Minute

// agentMetrics is where each agent serves /metrics in its node's namespace.
const agentMetrics = "127.0.0.1:9965"

// TestKubernetesAPIOutage takes the API server away from running agents:
// killed; restarted on the same etcd but refusing them (403, their RBAC
// binding gone); then paused (a server that accepts connections and never
// answers). Throughout, the agents serve flows labelled with what they last
// knew, count and report the API errors, and once the server serves them
// again they pick up changes made there, each agent on its own time: its
// informers retry with a backoff capped at 5 to 10 s.
func TestKubernetesAPIOutage(t *testing.T) {
	e := setupKube(t, outagePrefix, demo.WithMetricsAddress(agentMetrics))
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	src, sock := e.pod(0)
	dst, _ := e.pod(2)
	srcPod, _ := e.cluster.Topology.Pod(src.Name)
	dstPod, _ := e.cluster.Topology.Pod(dst.Name)
	// The connections cross from srcPod's node to dstPod's, so both agents
	// see them and label srcPod, local on one and remote on the other.
	nodes := []string{srcPod.Node, dstPod.Node}
	if nodes[0] == nodes[1] {
		t.Fatalf("pods 0 and 2 share node %s; the test needs both agents on the path", nodes[0])
	}
	labelled := fromPod(srcPod.Name, "k8s:app="+srcPod.Labels["app"])
	var socks []string
	for _, n := range nodes {
		socks = append(socks, e.sockets[n])
	}

	// Each agent syncs on its own: one naming the pod says nothing of the
	// other.
	for _, sock := range socks {
		e.request(t, ctx, sock, src, dst, labelled)
	}
	e.awaitAgentMetric(t, 30*time.Second, nodes, "fovea_kubernetes_synced", 1, "before the outage")
	errorsBefore := map[string]float64{}
	for _, n := range nodes {
		errorsBefore[n] = e.agentMetric(t, n, "fovea_kubernetes_api_errors_total")
	}

	// Down: connections reset, new ones refused. The agents' RBAC binding
	// goes first, so that the server comes back refusing them (open
	// watches are authorized once, when they start).
	bindings := e.api.Admin.RbacV1().ClusterRoleBindings()
	binding, err := bindings.Get(ctx, "fovea-agent", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := bindings.Delete(ctx, binding.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	e.api.KillAPIServer()
	t.Log("kube-apiserver killed")
	eventually(t, 30*time.Second, func() error {
		for _, n := range nodes {
			if got := e.agentMetric(t, n, "fovea_kubernetes_api_errors_total"); got <= errorsBefore[n] {
				return fmt.Errorf("%s: fovea_kubernetes_api_errors_total = %v with the API server down, want more than %v", n, got, errorsBefore[n])
			}
			if got := e.agentMetric(t, n, "fovea_kubernetes_api_reachable"); got != 0 {
				return fmt.Errorf("%s: fovea_kubernetes_api_reachable = %v with the API server down, want 0", n, got)
			}
		}
		return nil
	})
	checked := 0
	whileDown := func() {
		c := e.requestOnce(t, ctx, socks, src, dst, labelled)
		if out := e.hubble(t, sock, "observe", "--last", "100000", "--pod", srcPod.Key(), "--port", strconv.Itoa(int(c.Src.Port))); !strings.Contains(out, srcPod.Name) {
			t.Fatalf("API server down: hubble observe --pod %s finds no flow of a new connection", srcPod.Key())
		}
		e.checkServing(t, nodes)
		checked++
	}
	// Traffic goes on for a while, so the informers retry more than once.
	for time.Since(began) < outage {
		whileDown()
		time.Sleep(time.Second)
	}
	for _, n := range nodes {
		// Retries back off: a few per informer, not a busy loop.
		errs := e.agentMetric(t, n, "fovea_kubernetes_api_errors_total") - errorsBefore[n]
		if errs > maxOutageErrors {
			t.Errorf("%s: %v API errors counted in %v down, want at most %d: retries do not back off", n, errs, outage, maxOutageErrors)
		}
		t.Logf("%s: %v API errors counted in %v down", n, errs, time.Since(began).Round(time.Second))
	}
	// The first error an agent reports may be a connection the kill reset;
	// the refused ones follow once the report interval has passed.
	e.awaitAgentEvents(t, reportLimit, nodes, began, "connection refused", whileDown)
	t.Logf("API server down %v: %d new connections' flows labelled; agents count and report the errors", time.Since(began).Round(time.Second), checked)

	// Erroring: back, but answering the agents' lists with 403 Forbidden
	// until their binding returns.
	if err := e.api.RestartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	t.Logf("kube-apiserver restarted after %v down, without the agents' binding", restarted.Sub(began).Round(time.Second))
	checked = 0
	e.awaitAgentEvents(t, reportLimit, nodes, restarted, "403 Forbidden", func() {
		e.requestOnce(t, ctx, socks, src, dst, labelled)
		e.checkServing(t, nodes)
		checked++
	})
	t.Logf("API server forbidding the agents for %v: %d new connections' flows labelled", time.Since(restarted).Round(time.Second), checked)
	binding.ResourceVersion = ""
	if _, err := bindings.Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	restored := time.Now()

	// Back to normal: a pod created now, in a new network namespace on
	// srcPod's node, is named in flows once each agent's informers have
	// listed and watched again.
	late, err := e.cluster.AddPod(ctx, srcPod.Node)
	if err != nil {
		t.Fatal(err)
	}
	if err := kube.CreatePod(ctx, e.api.Admin, kube.Pod{
		Namespace: late.Namespace, Name: late.Name, Node: late.Node, Labels: late.Labels, IPs: []netip.Addr{late.IPv4, late.IPv6},
	}); err != nil {
		t.Fatal(err)
	}
	lateHost := traffic.Host{Name: late.Key(), Netns: cluster.NewNetns(late.Netns), IPv4: late.IPv4, IPv6: late.IPv6}
	for _, n := range nodes {
		e.awaitRequest(t, ctx, 90*time.Second, e.sockets[n], lateHost, dst, fromPod(late.Name, "k8s:app="+late.Labels["app"]))
		t.Logf("%s: a pod created after the binding returned is named in flows %v after it returned", n, time.Since(restored).Round(100*time.Millisecond))
	}
	// The end of the outage is reported, not just the errors stopping.
	eventually(t, 30*time.Second, func() error {
		for _, n := range nodes {
			if got := e.agentMetric(t, n, "fovea_kubernetes_synced"); got != 1 {
				return fmt.Errorf("%s: fovea_kubernetes_synced = %v after the outage, want 1", n, got)
			}
			if got := e.agentMetric(t, n, "fovea_kubernetes_api_reachable"); got != 1 {
				return fmt.Errorf("%s: fovea_kubernetes_api_reachable = %v after the outage, want 1", n, got)
			}
			if e.agentEvent(t, e.sockets[n], "kubernetes_api_recovered", restarted) == nil {
				return fmt.Errorf("%s: no kubernetes_api_recovered agent event since the restart", n)
			}
		}
		return nil
	})
	for _, n := range nodes {
		ev := e.agentEvent(t, e.sockets[n], "kubernetes_api_recovered", restarted)
		t.Logf("%s: agent event kubernetes_api_recovered: %s", n, ev.GetAgentEvent().GetUnknown().GetNotification())
	}

	// Slow: the server holds every connection and answers nothing.
	if err := e.api.PauseAPIServer(); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	checked = 0
	for ; time.Since(paused) < 15*time.Second; checked++ {
		e.checkServing(t, nodes)
		e.requestOnce(t, ctx, socks, src, dst, labelled)
		time.Sleep(time.Second)
	}
	if err := e.api.ResumeAPIServer(); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	t.Logf("kube-apiserver paused %v: agents kept serving; %d new connections' flows labelled", resumed.Sub(paused).Round(time.Second), checked)
	pods := e.api.Admin.CoreV1().Pods(srcPod.Namespace)
	pod, err := pods.Get(ctx, srcPod.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Labels["outage"] = "over"
	if _, err := pods.Update(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		e.awaitRequest(t, ctx, 60*time.Second, e.sockets[n], src, dst, fromPod(srcPod.Name, "k8s:outage=over"))
		t.Logf("%s: a label set after resuming shows in flows %v after resuming", n, time.Since(resumed).Round(100*time.Millisecond))
	}
}

// fromPod accepts a flow from pod name whose source carries label.
func fromPod(name, label string) func(*flowpb.Flow) error {
	return func(f *flowpb.Flow) error {
		if got := f.GetSource().GetPodName(); got != name || !slices.Contains(f.GetSource().GetLabels(), label) {
			return fmt.Errorf("flow from pod %q labelled %v, want pod %q with %s", got, f.GetSource().GetLabels(), name, label)
		}
		return nil
	}
}

// awaitRequest connects src to dst until the agent at sock reports a
// request flow that ok accepts, for at most limit.
func (e *kubeEnv) awaitRequest(t *testing.T, ctx context.Context, limit time.Duration, sock string, src, dst traffic.Host, ok func(*flowpb.Flow) error) {
	t.Helper()
	eventually(t, limit, func() error {
		c, err := traffic.TCPShort(ctx, src, dst, traffic.IPv4)
		if err != nil {
			return err
		}
		for range 10 {
			requests, _ := connFlows(c, e.observeJSON(t, sock, "--last", "100000", "--port", strconv.Itoa(int(c.Src.Port))))
			if len(requests) > 0 {
				return ok(requests[0])
			}
			time.Sleep(100 * time.Millisecond)
		}
		return fmt.Errorf("%s: no request flow of %v", sock, c)
	})
}

// requestOnce makes one connection from src to dst and fails unless the
// agent at each of socks reports its request flow within 10 s and ok
// accepts it.
func (e *kubeEnv) requestOnce(t *testing.T, ctx context.Context, socks []string, src, dst traffic.Host, ok func(*flowpb.Flow) error) traffic.Conn {
	t.Helper()
	c, err := traffic.TCPShort(ctx, src, dst, traffic.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	for _, sock := range socks {
		deadline := time.Now().Add(10 * time.Second)
		for {
			requests, _ := connFlows(c, e.observeJSON(t, sock, "--last", "100000", "--port", strconv.Itoa(int(c.Src.Port))))
			if len(requests) > 0 {
				if err := ok(requests[0]); err != nil {
					t.Fatalf("%s: %v: %v", sock, c, err)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no request flow of %v within 10s", sock, c)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return c
}

// checkServing fails unless every agent answers hubble status.
func (e *kubeEnv) checkServing(t *testing.T, nodes []string) {
	t.Helper()
	for _, n := range nodes {
		if out := e.hubble(t, e.sockets[n], "status"); !strings.Contains(out, "Healthcheck") || !strings.Contains(out, "Ok") {
			t.Fatalf("%s: hubble status:\n%s", n, out)
		}
	}
}

// awaitAgentEvents waits until every node's agent has published a
// kubernetes_api_error event since since whose notification holds detail,
// running each of meanwhile (if any) between looks.
func (e *kubeEnv) awaitAgentEvents(t *testing.T, limit time.Duration, nodes []string, since time.Time, detail string, meanwhile ...func()) {
	t.Helper()
	notes := map[string]string{}
	eventually(t, limit, func() error {
		for _, f := range meanwhile {
			f()
		}
		for _, n := range nodes {
			ev := e.agentEvent(t, e.sockets[n], "kubernetes_api_error", since)
			note := ev.GetAgentEvent().GetUnknown().GetNotification()
			if !strings.Contains(note, detail) {
				return fmt.Errorf("%s: no kubernetes_api_error agent event about %q since %v (newest: %q)", n, detail, since.Format(time.StampMilli), note)
			}
			notes[n] = note
		}
		return nil
	})
	for _, n := range nodes {
		t.Logf("%s: agent event kubernetes_api_error: %s", n, notes[n])
	}
}

// agentEvent returns the newest agent event of type typ (an
// AgentEventUnknown's type) at sock no older than since, or nil.
func (e *kubeEnv) agentEvent(t *testing.T, sock, typ string, since time.Time) *observerpb.GetAgentEventsResponse {
	t.Helper()
	out := e.hubble(t, sock, "observe", "agent-events", "--last", "1000", "-o", "json")
	var found *observerpb.GetAgentEventsResponse
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var resp observerpb.GetAgentEventsResponse
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(sc.Bytes(), &resp); err != nil {
			t.Fatalf("decode hubble agent-events line %q: %v", sc.Text(), err)
		}
		if resp.GetAgentEvent().GetUnknown().GetType() == typ && !resp.GetTime().AsTime().Before(since) {
			found = &resp
		}
	}
	return found
}

// awaitAgentMetric waits until metric name reads want on every node's
// agent, for at most limit; when says when it should.
func (e *kubeEnv) awaitAgentMetric(t *testing.T, limit time.Duration, nodes []string, name string, want float64, when string) {
	t.Helper()
	eventually(t, limit, func() error {
		for _, n := range nodes {
			if got := e.agentMetric(t, n, name); got != want {
				return fmt.Errorf("%s: %s = %v %s, want %v", n, name, got, when, want)
			}
		}
		return nil
	})
}

// agentMetric scrapes node's agent and returns the sum of the series of
// metric name.
func (e *kubeEnv) agentMetric(t *testing.T, node, name string) float64 {
	t.Helper()
	return mustMetric(t, e.cluster, node, agentMetrics, name)
}
