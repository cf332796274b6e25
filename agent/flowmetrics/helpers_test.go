package flowmetrics

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/l7"
	"github.com/foveanet/fovea/model/record"
)

var update = flag.Bool("update", false, "rewrite the golden scrapes in testdata instead of comparing with them")

// testNode returns a node whose tables resolve L7 details.
func testNode(t testing.TB) *flowview.Node {
	t.Helper()
	tables := intern.NewTables()
	store, err := l7.NewStore(64)
	if err != nil {
		t.Fatal(err)
	}
	tables.L7 = store
	return flowview.NewNode("node-1", "default", "test", nil, tables)
}

// Endpoints the test records name.
var (
	podA = &flowpb.Endpoint{ID: 1, Identity: 1001, Namespace: "shop", PodName: "frontend-7d9f-abcde",
		Labels:    []string{"k8s:app=frontend", "k8s:io.kubernetes.pod.namespace=shop"},
		Workloads: []*flowpb.Workload{{Name: "frontend", Kind: "Deployment"}}}
	podB = &flowpb.Endpoint{ID: 2, Identity: 1002, Namespace: "shop", PodName: "cart-0",
		Labels:    []string{"k8s:app.kubernetes.io/name=cart", "k8s:io.kubernetes.pod.namespace=shop"},
		Workloads: []*flowpb.Workload{{Name: "cart", Kind: "StatefulSet"}}}
	coreDNS = &flowpb.Endpoint{ID: 3, Identity: 1003, Namespace: "kube-system", PodName: "coredns-1",
		Labels: []string{"k8s:io.kubernetes.pod.namespace=kube-system", "k8s:k8s-app=kube-dns"}}
	world     = &flowpb.Endpoint{Identity: 2, Labels: []string{"reserved:world"}}
	host      = &flowpb.Endpoint{Identity: 1, Labels: []string{"reserved:host"}}
	apiServer = &flowpb.Endpoint{Identity: 7, Labels: []string{"reserved:kube-apiserver", "reserved:world"}}
)

// rec describes a test record; zero fields stay unset.
type rec struct {
	kind               record.Kind
	src, dst           string
	sport, dport       uint16
	proto              uint8
	tcp                uint16
	icmpType           uint8
	verdict            flowpb.Verdict
	obs                flowpb.TraceObservationPoint
	drop               flowpb.DropReason
	reply              *bool
	srcEP, dstEP       *flowpb.Endpoint
	srcNames, dstNames []string
	dns                *flowpb.DNS
	http               *flowpb.Layer7 // HTTP details, with their type and latency
	lost               uint32
	// policyEgress and match are a policy verdict's direction and
	// policy_match_type.
	policyEgress bool
	match        uint32
}

var (
	yes = func() *bool { b := true; return &b }()
	no  = func() *bool { b := false; return &b }()
)

var refKeys int

func internRef[T any](tab *intern.Table[T], v T) intern.Ref {
	refKeys++
	return tab.Intern(strconv.Itoa(refKeys), func() T { return v })
}

// record builds d's record on node n, interning what it references.
func (d rec) record(n *flowview.Node) record.Record {
	var r record.Record
	r.Kind = d.kind
	if r.Kind == 0 {
		r.Kind = record.KindTrace
	}
	if r.Kind == record.KindLost {
		r.LostSource, r.Count = uint8(flowpb.LostEventSource_PERF_EVENT_RING_BUFFER), d.lost
		return r
	}
	src, dst := d.src, d.dst
	if src == "" {
		src = "10.0.0.1"
	}
	if dst == "" {
		dst = "10.0.0.2"
	}
	r.SetAddrs(netip.MustParseAddr(src), netip.MustParseAddr(dst))
	r.SrcPort, r.DstPort, r.Proto, r.TCPFlags = d.sport, d.dport, d.proto, d.tcp
	r.ICMPType = d.icmpType
	r.Verdict, r.ObsPoint, r.DropReason = uint8(d.verdict), uint8(d.obs), uint16(d.drop)
	if r.Verdict == 0 {
		r.Verdict = uint8(flowpb.Verdict_FORWARDED)
	}
	if d.reply != nil {
		r.SetReply(*d.reply)
	}
	if d.policyEgress {
		r.Flags |= record.FlagPolicyEgress
	}
	r.Detail = d.match
	t := n.Tables
	if d.srcEP != nil {
		r.SrcEndpoint = internRef(t.Endpoints, d.srcEP)
	}
	if d.dstEP != nil {
		r.DstEndpoint = internRef(t.Endpoints, d.dstEP)
	}
	if d.srcNames != nil {
		r.SrcNames = internRef(t.Names, d.srcNames)
	}
	if d.dstNames != nil {
		r.DstNames = internRef(t.Names, d.dstNames)
	}
	if d.dns != nil {
		r.Ext = t.L7.(*l7.Store).Put(&flowpb.Layer7{Record: &flowpb.Layer7_Dns{Dns: d.dns}})
	}
	if d.http != nil {
		r.Ext = t.L7.(*l7.Store).Put(d.http)
	}
	return r
}

// newTestMetrics returns the metrics spec enables on n, with a clock the
// test sets.
func newTestMetrics(t testing.TB, spec string, n *flowview.Node, clock *time.Time, opts ...Option) *Metrics {
	t.Helper()
	cfg, err := ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, n, append([]Option{WithClock(func() time.Time { return *clock })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// feed counts recs as the handlers' goroutine would, loss records as the
// pipeline would.
func feed(m *Metrics, n *flowview.Node, recs ...rec) {
	for _, d := range recs {
		r := d.record(n)
		if r.Kind == record.KindLost {
			m.Observe(&r)
			continue
		}
		m.count([]record.Record{r})
	}
}

// scrape returns the text exposition of cs, as a scrape would see it.
func scrape(t testing.TB, cs ...prometheus.Collector) string {
	t.Helper()
	return expose(t, gather(t, cs...))
}

// gather returns a registry of cs, which checks them as the agent's does.
func gather(t testing.TB, cs ...prometheus.Collector) prometheus.Gatherer {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(cs...)
	return reg
}

// expose returns the text exposition of what g gathers, but the families
// skip names.
func expose(t testing.TB, g prometheus.Gatherer, skip ...string) string {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if slices.Contains(skip, f.GetName()) {
			continue
		}
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("scrape differs from %s (go test -update rewrites it; review the diff):\n--- got\n%s--- want\n%s", path, got, want)
	}
}
