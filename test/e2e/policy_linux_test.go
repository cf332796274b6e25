//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	npclient "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned"
	"sigs.k8s.io/yaml"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/kube"
	"github.com/foveanet/fovea/test/traffic"
)

// policyPrefix keeps this file's cluster apart from the others'.
const policyPrefix = "fvpol-"

// The topology's pods (2 nodes, 2 pods each): node1 has demo/frontend and
// demo/backend, node2 demo/db and default/client.
const (
	podFrontend = 0
	podBackend  = 1
	podDB       = 2
	podClient   = 3
)

func selector(kv ...string) *metav1.LabelSelector {
	s := &metav1.LabelSelector{MatchLabels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.MatchLabels[kv[i]] = kv[i+1]
	}
	return s
}

func tcpPolicyPort(p intstr.IntOrString) []networkingv1.NetworkPolicyPort {
	return []networkingv1.NetworkPolicyPort{{Port: &p}}
}

// testPolicies are the policies of the acceptance: a default deny of
// ingress in demo, an allow from app=client (of namespace default) on one
// port, an egress ipBlock with an exception, and an allow by named port.
func testPolicies() []*networkingv1.NetworkPolicy {
	ingress := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	return []*networkingv1.NetworkPolicy{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "deny-ingress"},
			Spec: networkingv1.NetworkPolicySpec{PolicyTypes: ingress}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "allow-client"},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: *selector("app", "frontend"), PolicyTypes: ingress,
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From: []networkingv1.NetworkPolicyPeer{{
						NamespaceSelector: selector("kubernetes.io/metadata.name", "default"), PodSelector: selector("app", "client"),
					}},
					Ports: tcpPolicyPort(intstr.FromInt32(int32(traffic.TCPPort))),
				}}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "egress-cidr"},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: *selector("app", "backend"),
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
				Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{
					IPBlock: &networkingv1.IPBlock{CIDR: "10.244.0.0/16", Except: []string{"10.244.2.0/24"}},
				}}}}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "allow-frontend-http"},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: *selector("app", "db"), PolicyTypes: ingress,
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{PodSelector: selector("app", "frontend")}},
					Ports: tcpPolicyPort(intstr.FromString("http")),
				}}}},
	}
}

// verdictCase is a connection and the policy verdict the agent of one
// node must give it.
type verdictCase struct {
	name     string
	src, dst int
	// node is the node whose agent decides: "node1" or "node2".
	node    string
	dir     flowpb.TrafficDirection
	verdict flowpb.Verdict
	// by are the policies named, in order.
	by []string
}

// policyVerdicts returns the policy verdict flows of the connections from
// source port sport at sock.
func (e *kubeEnv) policyVerdicts(t *testing.T, sock string, sport uint16) []*flowpb.Flow {
	return e.observeJSON(t, sock, "--last", "100000", "--type", "policy-verdict", "--port", strconv.Itoa(int(sport)))
}

func policyNamesOf(ps []*flowpb.Policy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.GetName())
	}
	return out
}

// verdictOf finds the verdict of dir among flows and the policies it names.
func verdictOf(flows []*flowpb.Flow, dir flowpb.TrafficDirection) (*flowpb.Flow, []string) {
	for _, f := range flows {
		if f.GetTrafficDirection() != dir {
			continue
		}
		switch {
		case dir == flowpb.TrafficDirection_INGRESS && f.GetVerdict() == flowpb.Verdict_FORWARDED:
			return f, policyNamesOf(f.GetIngressAllowedBy())
		case dir == flowpb.TrafficDirection_INGRESS:
			return f, policyNamesOf(f.GetIngressDeniedBy())
		case f.GetVerdict() == flowpb.Verdict_FORWARDED:
			return f, policyNamesOf(f.GetEgressAllowedBy())
		default:
			return f, policyNamesOf(f.GetEgressDeniedBy())
		}
	}
	return nil, nil
}

func (e *kubeEnv) socketOf(node string) string { return e.sockets[node] }

// checkVerdict connects tc's pods until the deciding agent reports the
// verdict tc wants (the agents may take a moment to see new policies), and
// returns the connection and its verdict.
func (e *kubeEnv) checkVerdict(t *testing.T, ctx context.Context, tc verdictCase) (traffic.Conn, *flowpb.Flow) {
	t.Helper()
	src, _ := e.pod(tc.src)
	dst, _ := e.pod(tc.dst)
	sock := e.socketOf(tc.node)
	var (
		c       traffic.Conn
		verdict *flowpb.Flow
	)
	eventually(t, 30*time.Second, func() error {
		var err error
		if c, err = traffic.TCPShort(ctx, src, dst, traffic.IPv4); err != nil {
			return err
		}
		var flows []*flowpb.Flow
		for range 10 {
			if flows = e.policyVerdicts(t, sock, c.Src.Port); len(flows) > 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		f, by := verdictOf(flows, tc.dir)
		if f == nil || f.GetVerdict() != tc.verdict || !slices.Equal(by, tc.by) {
			return fmt.Errorf("%s: %s verdict %v by %v on %s, want %v by %v", tc.name, tc.dir, f.GetVerdict(), by, tc.node, tc.verdict, tc.by)
		}
		verdict = f
		return nil
	})
	return c, verdict
}

// TestNetworkPolicyVerdicts runs the policies of the acceptance against
// agents reading a real kube-apiserver, without an enforcer: each
// connection's verdict names the policy that decided it, denied
// connections the network delivered are AUDIT, counted and announced;
// changes to policies and labels decide new connections within a second.
// Then kube-router's network policy controller enforces them on each node
// and the same denied connections are POLICY_DENIED drops naming them.
func TestNetworkPolicyVerdicts(t *testing.T) {
	e := setupKubeThen(t, policyPrefix, installClusterPolicyCRD, demo.WithMetricsAddress(agentMetrics), demo.WithAgentArgs("--metrics=policy"))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	for _, np := range testPolicies() {
		if _, err := e.api.Admin.NetworkingV1().NetworkPolicies(np.Namespace).Create(ctx, np, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	in, out := flowpb.TrafficDirection_INGRESS, flowpb.TrafficDirection_EGRESS
	allowed, audit := flowpb.Verdict_FORWARDED, flowpb.Verdict_AUDIT
	cases := []verdictCase{
		{name: "client to frontend", src: podClient, dst: podFrontend, node: "node1", dir: in, verdict: allowed, by: []string{"allow-client"}},
		{name: "db to frontend", src: podDB, dst: podFrontend, node: "node1", dir: in, verdict: audit, by: []string{"allow-client", "deny-ingress"}},
		{name: "backend to db, leaving node1", src: podBackend, dst: podDB, node: "node1", dir: out, verdict: audit, by: []string{"egress-cidr"}},
		{name: "backend to db, entering db", src: podBackend, dst: podDB, node: "node2", dir: in, verdict: audit, by: []string{"allow-frontend-http", "deny-ingress"}},
		{name: "frontend to db's named port", src: podFrontend, dst: podDB, node: "node2", dir: in, verdict: allowed, by: []string{"allow-frontend-http"}},
		{name: "backend to frontend, leaving backend", src: podBackend, dst: podFrontend, node: "node1", dir: out, verdict: allowed, by: []string{"egress-cidr"}},
	}
	for i, tc := range cases {
		c, v := e.checkVerdict(t, ctx, tc)
		t.Logf("%s: %v %s by %v", tc.name, c, tc.verdict, tc.by)
		// The allowing policy names its rule; a default deny, none.
		if i == 0 {
			p := v.GetIngressAllowedBy()[0]
			if p.GetKind() != "NetworkPolicy" || p.GetNamespace() != "demo" || p.GetRevision() != 1 ||
				!slices.Contains(p.GetLabels(), "fovea:policy.rule=spec.ingress[0]") {
				t.Errorf("%s: allowed by %v", tc.name, p)
			}
		}
	}
	// UDP: the first datagram of an exchange decides it.
	db, _ := e.pod(podDB)
	frontend, _ := e.pod(podFrontend)
	eventually(t, 10*time.Second, func() error {
		c, err := traffic.UDP(ctx, db, frontend, traffic.IPv4)
		if err != nil {
			return err
		}
		f, by := verdictOf(e.policyVerdicts(t, e.socketOf("node1"), c.Src.Port), flowpb.TrafficDirection_INGRESS)
		if f.GetVerdict() != flowpb.Verdict_AUDIT || f.GetL4().GetUDP() == nil || !slices.Equal(by, []string{"allow-client", "deny-ingress"}) {
			return fmt.Errorf("UDP db to frontend: %v by %v", f, by)
		}
		return nil
	})
	e.checkPrintedVerdict(t, podDB, podFrontend, "node1", "AUDITED BY allow-client (NetworkPolicy), deny-ingress (NetworkPolicy)")
	e.checkPrintedVerdict(t, podClient, podFrontend, "node1", "ALLOWED BY allow-client (NetworkPolicy)")

	// The denials the network delivered are counted and announced.
	if n := mustMetric(t, e.cluster, "node1", agentMetrics, "fovea_policy_unenforced_connections_total"); n < 3 {
		t.Errorf("node1: fovea_policy_unenforced_connections_total = %v, want at least one per denying policy", n)
	}
	if ev := e.agentEvent(t, e.socketOf("node1"), "policy_unenforced", time.Time{}); ev == nil {
		t.Error("node1: no policy_unenforced agent event")
	} else {
		t.Logf("node1 agent event: %s", ev.GetAgentEvent().GetUnknown().GetNotification())
	}
	if n := mustMetric(t, e.cluster, "node1", agentMetrics, "hubble_policy_verdicts_total"); n == 0 {
		t.Error("node1: hubble_policy_verdicts_total is 0")
	}

	e.testLivePolicyChanges(t, ctx)
	e.testEnforcedPolicies(t, ctx)
	e.testClusterPolicyOverrides(t, ctx)
}

// checkPrintedVerdict connects src to dst and checks that the compact
// `hubble observe --type policy-verdict --print-policy-names` at node
// prints want for it.
func (e *kubeEnv) checkPrintedVerdict(t *testing.T, src, dst int, node, want string) {
	t.Helper()
	s, _ := e.pod(src)
	d, _ := e.pod(dst)
	eventually(t, 10*time.Second, func() error {
		c, err := traffic.TCPShort(t.Context(), s, d, traffic.IPv4)
		if err != nil {
			return err
		}
		out := e.hubble(t, e.socketOf(node), "observe", "--last", "100000", "--type", "policy-verdict", "--print-policy-names",
			"--port", strconv.Itoa(int(c.Src.Port)))
		if !strings.Contains(out, want) {
			return fmt.Errorf("hubble observe printed %q, want %q", out, want)
		}
		t.Logf("%s", strings.TrimSpace(out))
		return nil
	})
}

// liveStep changes the cluster, then connects db to frontend every 50 ms
// for 1.5 s and checks that every connection started a second after the
// change got the verdict it wants; it reports the first that did.
func (e *kubeEnv) liveStep(t *testing.T, ctx context.Context, name string, change func() error, verdict flowpb.Verdict, by []string) {
	t.Helper()
	db, _ := e.pod(podDB)
	frontend, _ := e.pod(podFrontend)
	if err := change(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	changed := time.Now()
	var conns []traffic.Conn
	for time.Since(changed) < 1500*time.Millisecond {
		c, err := traffic.TCPShort(ctx, db, frontend, traffic.IPv4)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		conns = append(conns, c)
		time.Sleep(50 * time.Millisecond)
	}
	// The verdicts of every probe at once, once the agent has read the
	// last probe's packets.
	bySport := map[uint32][]*flowpb.Flow{}
	last := uint32(conns[len(conns)-1].Src.Port)
	eventually(t, 10*time.Second, func() error {
		flows := e.observeJSON(t, e.socketOf("node1"), "--last", "100000", "--type", "policy-verdict",
			"--to-ip", frontend.IPv4.String(), "--from-ip", db.IPv4.String())
		clear(bySport)
		for _, f := range flows {
			sport := f.GetL4().GetTCP().GetSourcePort()
			bySport[sport] = append(bySport[sport], f)
		}
		if len(bySport[last]) == 0 {
			return fmt.Errorf("%s: no verdict yet for the last probe (port %d)", name, last)
		}
		return nil
	})
	first := time.Duration(-1)
	for _, c := range conns {
		f, names := verdictOf(bySport[uint32(c.Src.Port)], flowpb.TrafficDirection_INGRESS)
		ok := f != nil && f.GetVerdict() == verdict && slices.Equal(names, by)
		if ok && first < 0 {
			first = c.Start.Sub(changed)
		}
		if !ok && c.Start.Sub(changed) >= time.Second {
			t.Fatalf("%s: a connection %v after the change got %v by %v, want %v by %v",
				name, c.Start.Sub(changed).Round(time.Millisecond), f.GetVerdict(), names, verdict, by)
		}
	}
	if first < 0 {
		t.Fatalf("%s: no connection got %v by %v", name, verdict, by)
	}
	t.Logf("%s: new connections decided by it %v after the change", name, first.Round(time.Millisecond))
}

// testLivePolicyChanges adds, edits and deletes a policy and relabels a
// pod into its selector, each followed by db→frontend connections.
func (e *kubeEnv) testLivePolicyChanges(t *testing.T, ctx context.Context) {
	nps := e.api.Admin.NetworkingV1().NetworkPolicies("demo")
	allowDB := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "allow-db"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: *selector("app", "frontend"),
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: selector("app", "db")}},
				Ports: tcpPolicyPort(intstr.FromInt32(int32(traffic.TCPPort))),
			}}}}
	denied := []string{"allow-client", "allow-db", "deny-ingress"}
	e.liveStep(t, ctx, "policy added", func() error {
		_, err := nps.Create(ctx, allowDB, metav1.CreateOptions{})
		return err
	}, flowpb.Verdict_FORWARDED, []string{"allow-db"})
	e.liveStep(t, ctx, "policy edited to another port", func() error {
		p, err := nps.Get(ctx, "allow-db", metav1.GetOptions{})
		if err != nil {
			return err
		}
		p.Spec.Ingress[0].Ports = tcpPolicyPort(intstr.FromInt32(int32(traffic.TCPPort) + 1))
		_, err = nps.Update(ctx, p, metav1.UpdateOptions{})
		return err
	}, flowpb.Verdict_AUDIT, denied)
	e.liveStep(t, ctx, "policy edited to select role=trusted", func() error {
		p, err := nps.Get(ctx, "allow-db", metav1.GetOptions{})
		if err != nil {
			return err
		}
		p.Spec.Ingress[0].Ports = tcpPolicyPort(intstr.FromInt32(int32(traffic.TCPPort)))
		p.Spec.Ingress[0].From[0].PodSelector = selector("role", "trusted")
		_, err = nps.Update(ctx, p, metav1.UpdateOptions{})
		return err
	}, flowpb.Verdict_AUDIT, denied)
	dbPod := e.cluster.Topology.Pods()[podDB]
	e.liveStep(t, ctx, "db pod relabelled role=trusted", func() error {
		_, err := e.api.Admin.CoreV1().Pods(dbPod.Namespace).Patch(ctx, dbPod.Name, types.MergePatchType,
			[]byte(`{"metadata":{"labels":{"role":"trusted"}}}`), metav1.PatchOptions{})
		return err
	}, flowpb.Verdict_FORWARDED, []string{"allow-db"})
	e.liveStep(t, ctx, "policy deleted", func() error {
		return nps.Delete(ctx, "allow-db", metav1.DeleteOptions{})
	}, flowpb.Verdict_AUDIT, []string{"allow-client", "deny-ingress"})
}

// testEnforcedPolicies starts kube-router's network policy controller in
// each node's namespace: the denied connections no longer get through, and
// their drops name the denying policies.
func (e *kubeEnv) testEnforcedPolicies(t *testing.T, ctx context.Context) {
	stop := e.startKubeRouter(t, ctx)
	db, _ := e.pod(podDB)
	frontend, _ := e.pod(podFrontend)
	backend, _ := e.pod(podBackend)
	for _, tc := range []struct {
		name     string
		src, dst traffic.Host
		node     string
		dir      flowpb.TrafficDirection
		by       []string
	}{
		{"db to frontend", db, frontend, "node1", flowpb.TrafficDirection_INGRESS, []string{"allow-client", "deny-ingress"}},
		{"backend to db", backend, db, "node1", flowpb.TrafficDirection_EGRESS, []string{"egress-cidr"}},
	} {
		eventually(t, 60*time.Second, func() error {
			sport, err := dialDenied(ctx, tc.src, tc.dst)
			if err == nil {
				return fmt.Errorf("%s: connected: the enforcer is not enforcing yet", tc.name)
			}
			var verdict *flowpb.Flow
			var by []string
			for range 20 {
				if verdict, by = verdictOf(e.policyVerdicts(t, e.socketOf(tc.node), sport), tc.dir); verdict != nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if verdict.GetVerdict() != flowpb.Verdict_DROPPED || verdict.GetDropReasonDesc() != flowpb.DropReason_POLICY_DENIED ||
				!slices.Equal(by, tc.by) {
				return fmt.Errorf("%s (port %d): verdict %v %v by %v, want DROPPED POLICY_DENIED by %v",
					tc.name, sport, verdict.GetVerdict(), verdict.GetDropReasonDesc(), by, tc.by)
			}
			t.Logf("%s: %v %v by %v, %q", tc.name, verdict.GetVerdict(), verdict.GetDropReasonDesc(), by, verdict.GetSummary())
			// The kernel's drop names them too.
			drops := e.observeJSON(t, e.socketOf(tc.node), "--last", "100000", "--type", "drop", "--port", strconv.Itoa(int(sport)))
			if len(drops) == 0 {
				return fmt.Errorf("%s: no drop flow", tc.name)
			}
			d := drops[0]
			names := policyNamesOf(append(d.GetIngressDeniedBy(), d.GetEgressDeniedBy()...))
			if d.GetDropReasonDesc() != flowpb.DropReason_POLICY_DENIED || !slices.Equal(names, tc.by) ||
				!strings.Contains(d.GetSummary(), "kernel drop reason: NETFILTER_DROP") {
				return fmt.Errorf("%s: drop %v by %v %q", tc.name, d.GetDropReasonDesc(), names, d.GetSummary())
			}
			return nil
		})
	}
	e.checkPrintedDenied(t, ctx, db, frontend, "node1", "DENIED BY allow-client (NetworkPolicy), deny-ingress (NetworkPolicy)")
	// An allowed connection still gets through.
	e.checkVerdict(t, ctx, verdictCase{name: "client to frontend, enforced", src: podClient, dst: podFrontend, node: "node1",
		dir: flowpb.TrafficDirection_INGRESS, verdict: flowpb.Verdict_FORWARDED, by: []string{"allow-client"}})

	// The enforcer gone, its rules removed: the same traffic is AUDIT
	// again, naming the same policies, and counted.
	stop()
	before := mustMetric(t, e.cluster, "node1", agentMetrics, "fovea_policy_unenforced_connections_total")
	e.checkVerdict(t, ctx, verdictCase{name: "db to frontend, enforcer stopped", src: podDB, dst: podFrontend, node: "node1",
		dir: flowpb.TrafficDirection_INGRESS, verdict: flowpb.Verdict_AUDIT, by: []string{"allow-client", "deny-ingress"}})
	if after := mustMetric(t, e.cluster, "node1", agentMetrics, "fovea_policy_unenforced_connections_total"); after <= before {
		t.Errorf("node1: fovea_policy_unenforced_connections_total %v → %v with the enforcer stopped, want it to move", before, after)
	}

	// A firewall rule of the node's own drops a connection the policies
	// allow: the drop says it is not theirs.
	client, _ := e.pod(podClient)
	node1 := cluster.NewNetns(e.cluster.Topology.Nodes[0].Netns)
	rule := []string{"FORWARD", "-s", client.IPv4.String(), "-d", frontend.IPv4.String(), "-p", "tcp", "--dport", strconv.Itoa(int(traffic.TCPPort)), "-j", "DROP"}
	if out, err := node1.Exec(ctx, "iptables", append([]string{"-I"}, rule...)...); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	defer func() { _, _ = node1.Exec(ctx, "iptables", append([]string{"-D"}, rule...)...) }()
	eventually(t, 10*time.Second, func() error {
		sport, err := dialDenied(ctx, client, frontend)
		if err == nil {
			return fmt.Errorf("connected through a DROP rule")
		}
		drops := e.observeJSON(t, e.socketOf("node1"), "--last", "100000", "--type", "drop", "--port", strconv.Itoa(int(sport)))
		if len(drops) == 0 {
			return fmt.Errorf("no drop flow for port %d", sport)
		}
		d := drops[0]
		if by := policyNamesOf(d.GetIngressAllowedBy()); !slices.Equal(by, []string{"allow-client"}) ||
			!strings.HasSuffix(d.GetSummary(), "; allowed by network policy") || len(d.GetIngressDeniedBy()) != 0 {
			return fmt.Errorf("drop allowed by %v, denied by %v, %q", by, policyNamesOf(d.GetIngressDeniedBy()), d.GetSummary())
		}
		if v := e.policyVerdicts(t, e.socketOf("node1"), sport); len(v) != 0 {
			return fmt.Errorf("a drop no policy made got policy verdicts %v", describe(v))
		}
		t.Logf("a firewall's own drop: %v %q, allowed by %v", d.GetDropReasonDesc(), d.GetSummary(), policyNamesOf(d.GetIngressAllowedBy()))
		return nil
	})
}

func (e *kubeEnv) checkPrintedDenied(t *testing.T, ctx context.Context, src, dst traffic.Host, node, want string) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		sport, err := dialDenied(ctx, src, dst)
		if err == nil {
			return fmt.Errorf("connected")
		}
		time.Sleep(300 * time.Millisecond)
		out := e.hubble(t, e.socketOf(node), "observe", "--last", "100000", "--type", "policy-verdict", "--print-policy-names",
			"--port", strconv.Itoa(int(sport)))
		if !strings.Contains(out, want) {
			return fmt.Errorf("hubble observe printed %q, want %q", out, want)
		}
		t.Logf("%s", strings.TrimSpace(out))
		return nil
	})
}

// deniedPort is the next source port dialDenied binds: known before the
// connection fails, and below the ephemeral range.
var deniedPort uint16 = 20000

// dialDenied connects src to dst's TCP port from a source port of its
// own, with a short timeout, and returns that port with the result.
func dialDenied(ctx context.Context, src, dst traffic.Host) (uint16, error) {
	deniedPort++
	sport := deniedPort
	err := src.Netns.Do(func() error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src.IPv4, sport))}
		conn, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(dst.IPv4, traffic.TCPPort).String())
		if err == nil {
			conn.Close()
		}
		return err
	})
	return sport, err
}

// kubeRouterRole is what kube-router's network policy controller reads.
var kubeRouterRole = &rbacv1.ClusterRole{
	ObjectMeta: metav1.ObjectMeta{Name: "kube-router"},
	Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods", "namespaces", "nodes", "services", "endpoints"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"get", "list", "watch"}},
	},
}

// startKubeRouter runs kube-router, only its network policy controller, in
// each node's namespace against the test's API server, and waits until it
// has programmed the pod firewall chains. stop kills it and removes its
// rules, as when an enforcer is gone.
func (e *kubeEnv) startKubeRouter(t *testing.T, ctx context.Context) (stop func()) {
	t.Helper()
	bin := os.Getenv("KUBE_ROUTER_BIN")
	if bin == "" {
		t.Fatal("KUBE_ROUTER_BIN is not set: run the end-to-end tests with `make e2e` (or make kube-router-tools)")
	}
	token, err := kube.BindServiceAccount(ctx, e.api.Admin, kubeRouterRole, "kube-system", "kube-router")
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := kube.WriteKubeconfig(kubeconfig, e.api.Host, e.api.CA, token); err != nil {
		t.Fatal(err)
	}
	var stops []func()
	for _, n := range e.cluster.Topology.Nodes {
		logPath := filepath.Join(t.TempDir(), "kube-router-"+n.Name+".log")
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("ip", "netns", "exec", n.Netns, bin, "--run-firewall=true", "--run-router=false",
			"--run-service-proxy=false", "--enable-ipv6=false", "--kubeconfig="+kubeconfig, "--hostname-override="+n.Name,
			"--health-port=0", "--metrics-port=0", "--iptables-sync-period=5s", "-v=1")
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			t.Fatalf("start kube-router on %s: %v", n.Name, err)
		}
		stops = append(stops, func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			removeKubeRouterRules(t, ctx, n.Netns)
		})
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			logFile.Close()
			if t.Failed() {
				if data, err := os.ReadFile(logPath); err == nil {
					fmt.Fprintf(os.Stderr, "=== kube-router on %s (last 4 KiB)\n%s\n", n.Name, data[max(0, len(data)-4096):])
				}
			}
		})
		node := n
		eventually(t, 60*time.Second, func() error {
			out, err := cluster.NewNetns(node.Netns).Exec(ctx, "iptables-save", "-t", "filter")
			if err != nil {
				return err
			}
			if !strings.Contains(string(out), "KUBE-POD-FW-") {
				return fmt.Errorf("%s: kube-router has not programmed the pod firewall yet", node.Name)
			}
			return nil
		})
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}

// installClusterPolicyCRD creates the ClusterNetworkPolicy CRD of the
// sigs.k8s.io/network-policy-api module the agent is built with, and waits
// until the API server serves it.
func installClusterPolicyCRD(ctx context.Context, api *kube.ControlPlane) error {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/network-policy-api").Output()
	if err != nil {
		return fmt.Errorf("find the network-policy-api module: %w", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard", "policy.networking.k8s.io_clusternetworkpolicies.yaml"))
	if err != nil {
		return err
	}
	var crd unstructured.Unstructured
	if err := yaml.Unmarshal(data, &crd.Object); err != nil {
		return fmt.Errorf("parse the ClusterNetworkPolicy CRD: %w", err)
	}
	dyn, err := dynamic.NewForConfig(api.RESTConfig(api.AdminToken))
	if err != nil {
		return err
	}
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := dyn.Resource(crds).Create(ctx, &crd, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create the ClusterNetworkPolicy CRD: %w", err)
	}
	for {
		if _, err := api.Admin.Discovery().ServerResourcesForGroupVersion("policy.networking.k8s.io/v1alpha2"); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the ClusterNetworkPolicy CRD is not served: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// testClusterPolicyOverrides adds an Admin tier ClusterNetworkPolicy
// denying namespace default's pods into demo, over demo's allow-client,
// which kube-router does not enforce: the connection is delivered, AUDIT
// by the ClusterNetworkPolicy.
func (e *kubeEnv) testClusterPolicyOverrides(t *testing.T, ctx context.Context) {
	cnp := &npav1alpha2.ClusterNetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-default-into-demo"},
		Spec: npav1alpha2.ClusterNetworkPolicySpec{
			Tier: npav1alpha2.AdminTier, Priority: 10,
			Subject: npav1alpha2.ClusterNetworkPolicySubject{Namespaces: selector("kubernetes.io/metadata.name", "demo")},
			Ingress: []npav1alpha2.ClusterNetworkPolicyIngressRule{{
				Name: "no-default", Action: npav1alpha2.ClusterNetworkPolicyRuleActionDeny,
				From: []npav1alpha2.ClusterNetworkPolicyIngressPeer{{Namespaces: selector("kubernetes.io/metadata.name", "default")}},
			}},
		},
	}
	client, err := npclient.NewForConfig(e.api.RESTConfig(e.api.AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.PolicyV1alpha2().ClusterNetworkPolicies().Create(ctx, cnp, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.checkVerdict(t, ctx, verdictCase{name: "client to frontend, denied by the Admin tier", src: podClient, dst: podFrontend, node: "node1",
		dir: flowpb.TrafficDirection_INGRESS, verdict: flowpb.Verdict_AUDIT, by: []string{"deny-default-into-demo"}})
	e.checkPrintedVerdict(t, podClient, podFrontend, "node1", "AUDITED BY deny-default-into-demo (ClusterNetworkPolicy)")
}

// removeKubeRouterRules restores netns's filter table without kube-router's
// chains and the rules that jump to them (all named KUBE-: nothing else
// in the test cluster is). kube-router v2.1.0's own --cleanup-config
// panics (a nil pointer in its service proxy's cleanup) and leaves the
// firewall's rules in place.
func removeKubeRouterRules(t *testing.T, ctx context.Context, netns string) {
	t.Helper()
	rules, err := cluster.NewNetns(netns).Exec(ctx, "iptables-save", "-t", "filter")
	if err != nil {
		t.Fatal(err)
	}
	var kept strings.Builder
	for line := range strings.Lines(string(rules)) {
		if !strings.Contains(line, "KUBE-") {
			kept.WriteString(line)
		}
	}
	restore := exec.CommandContext(ctx, "ip", "netns", "exec", netns, "iptables-restore", "-T", "filter")
	restore.Stdin = strings.NewReader(kept.String())
	if out, err := restore.CombinedOutput(); err != nil {
		t.Fatalf("remove kube-router's rules in %s: %v: %s", netns, err, out)
	}
}
