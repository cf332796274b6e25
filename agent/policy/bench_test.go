package policy

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// benchCluster is 10,000 pods in 100 namespaces and 1,000 policies: in
// each namespace a default deny and nine policies allowing one app from
// app=client on one port, or (crowded) all 1,000 in the server's
// namespace.
type benchCluster struct {
	tables         *intern.Tables
	snap           *Snapshot
	server, client intern.Ref
}

func newBenchCluster(b *testing.B, crowded bool) *benchCluster {
	c := &benchCluster{tables: intern.NewTables()}
	pods := make(map[intern.Ref]*Pod, 10_000)
	var ps []*Policy
	for n := range 100 {
		ns := fmt.Sprintf("ns-%d", n)
		nsLabels := map[string]string{"kubernetes.io/metadata.name": ns, "team": fmt.Sprint(n % 7)}
		for i := range 100 {
			name := fmt.Sprintf("pod-%d", i)
			app := fmt.Sprintf("app-%d", i%10)
			if i == 99 {
				app = "client"
			}
			ref := c.tables.Endpoints.Intern(ns+"/"+name, func() *flowpb.Endpoint { return &flowpb.Endpoint{PodName: name} })
			pods[ref] = &Pod{Namespace: ns, Name: name, Labels: map[string]string{"app": app, "pod-template-hash": "abc"},
				NamespaceLabels: nsLabels, Local: true, Ports: []NamedPort{{Name: "http", Port: 8080, Proto: record.ProtoTCP}}}
			if n == 0 && i == 3 {
				c.server = ref
			}
			if n == 0 && i == 99 {
				c.client = ref
			}
		}
		policyNS := ns
		if crowded {
			policyNS = "ns-0"
		}
		ps = append(ps, mustCompile(b, netpol(policyNS, fmt.Sprintf("deny-%d", n), networkingv1.NetworkPolicySpec{PolicyTypes: ingressOnly})))
		for i := range 9 {
			ps = append(ps, mustCompile(b, netpol(policyNS, fmt.Sprintf("allow-%d-%d", n, i), networkingv1.NetworkPolicySpec{
				PodSelector: *sel("app", fmt.Sprintf("app-%d", i)), PolicyTypes: ingressOnly,
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{PodSelector: sel("app", "client")}, {NamespaceSelector: sel("team", "3")}},
					Ports: []networkingv1.NetworkPolicyPort{tcpPort(int32(8000 + i)), namedPort("http")},
				}},
			})))
		}
	}
	c.snap = NewSnapshot(ps, pods, 1)
	return c
}

func mustCompile(b *testing.B, np *networkingv1.NetworkPolicy) *Policy {
	p, err := CompileNetworkPolicy(np)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func (c *benchCluster) conn() *Conn {
	return &Conn{Dir: Ingress, Local: c.snap.Pod(c.server), Peer: c.snap.Pod(c.client),
		PeerAddr: netip.MustParseAddr("10.0.0.99"), Port: 8080, Proto: record.ProtoTCP}
}

// BenchmarkEvaluateUncached is one connection direction evaluated from the
// policies: the cost of a verdict cache miss.
func BenchmarkEvaluateUncached(b *testing.B) {
	for _, crowded := range []bool{false, true} {
		b.Run(fmt.Sprintf("policies_in_namespace=%d", map[bool]int{false: 10, true: 1000}[crowded]), func(b *testing.B) {
			c := newBenchCluster(b, crowded)
			conn := c.conn()
			if r := c.snap.Evaluate(conn); r.Outcome != Allowed {
				b.Fatalf("outcome %d", r.Outcome)
			}
			b.ReportAllocs()
			for b.Loop() {
				c.snap.Evaluate(conn)
			}
		})
	}
}

// BenchmarkDecideCached is the stage's decision for a connection whose
// endpoints, port and protocol the cache holds: the cost per new
// connection once the cache is warm.
func BenchmarkDecideCached(b *testing.B) {
	c := newBenchCluster(b, false)
	store := NewStore()
	store.Replace(c.snap)
	s := NewStage(store, c.tables)
	r := record.Record{Kind: record.KindTrace, Proto: record.ProtoTCP, DstPort: 8080, SrcEndpoint: c.client, DstEndpoint: c.server}
	r.SetAddrs(netip.MustParseAddr("10.0.0.99"), netip.MustParseAddr("10.0.0.3"))
	conn := c.conn()
	decide := func() Decision {
		return s.decide(c.snap, Ingress, &r, conn.Local, conn.Peer, c.server, c.client, r.SrcAddr())
	}
	if d := decide(); d.Outcome != Allowed {
		b.Fatalf("outcome %d", d.Outcome)
	}
	b.ReportAllocs()
	for b.Loop() {
		decide()
	}
}

// BenchmarkObserveNewConnection is the stage on the first packet of a new
// connection (a new source port each time) entering a local pod: the
// cached decision, the check that the connection was not reported yet,
// and the verdict record.
func BenchmarkObserveNewConnection(b *testing.B) {
	c := newBenchCluster(b, false)
	store := NewStore()
	store.Replace(c.snap)
	s := NewStage(store, c.tables)
	r := record.Record{Kind: record.KindTrace, Proto: record.ProtoTCP, DstPort: 8080, TCPFlags: record.TCPSyn,
		ObsPoint: uint8(flowpb.TraceObservationPoint_TO_ENDPOINT), SrcEndpoint: c.client, DstEndpoint: c.server}
	r.SetAddrs(netip.MustParseAddr("10.0.0.99"), netip.MustParseAddr("10.0.0.3"))
	r.SetReply(false)
	b.ReportAllocs()
	for b.Loop() {
		// A new source port, and address once the ports are spent.
		r.SrcPort++
		if r.SrcPort == 0 {
			r.Src[3]++
		}
		r.Time++
		if len(s.Observe(&r)) != 1 {
			b.Fatal("no verdict")
		}
	}
}

// TestCacheMemory reports what a full verdict cache holds on the heap.
func TestCacheMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	tables := intern.NewTables()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := newCache(tables.Policies)
	for i := range maxCached {
		c.m[cacheKey{local: intern.Ref(i), peer: 1, port: 80, proto: 6}] = Decision{Outcome: Allowed, Policies: 1}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / maxCached
	t.Logf("verdict cache: %d entries, %.1f MiB, %.0f B per entry", maxCached, float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), perEntry)
	runtime.KeepAlive(c)
}
