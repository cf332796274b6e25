package flowmetrics

import (
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

// newRetinaMetrics returns metrics counting Retina's flow series as c says.
func newRetinaMetrics(t testing.TB, c RetinaConfig, clock *time.Time) (*Metrics, *flowview.Node) {
	t.Helper()
	n := testNode(t)
	m, err := New(Config{Retina: c}, n, WithClock(func() time.Time { return *clock }))
	if err != nil {
		t.Fatal(err)
	}
	return m, n
}

// TestRetinaBasicGolden: the node's DNS queries and responses, by Retina's
// labels; drops and records without DNS details are not counted.
func TestRetinaBasicGolden(t *testing.T) {
	now := time.Unix(1000, 0)
	m, n := newRetinaMetrics(t, RetinaConfig{Mode: RetinaBasic}, &now)
	feed(m, n, sampleFlows...)
	golden(t, "retina-basic.golden", scrape(t, m.RetinaCollector()))
	// Hubble's collector shows none of them.
	if got := scrape(t, m.FlowCollector()); strings.Contains(got, "networkobservability_") {
		t.Errorf("Hubble's collector shows Retina's series:\n%s", got)
	}
}

func TestParseRetinaConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte("retina:\n  mode: advanced\n  contextMode: local\n  namespaces: {include: [shop], exclude: [kube-system]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := RetinaConfig{Mode: RetinaAdvanced, ContextMode: ContextLocal,
		Namespaces: NamespaceSelector{Include: []string{"shop"}, Exclude: []string{"kube-system"}}}
	if !cfg.Retina.equal(want) {
		t.Errorf("parsed %+v, want %+v", cfg.Retina, want)
	}
	for data, wantErr := range map[string]string{
		"retina: {mode: fancy}":                             `retina: mode "fancy" is none of basic, advanced`,
		"retina: {mode: advanced, contextMode: far}":        `retina: contextMode "far" is none of remote, local`,
		"retina: {mode: basic, namespaces: {include: [a]}}": `retina: contextMode, namespaces and annotations select pods for the advanced mode, not "basic"`,
		"retina: {mode: basic, pods: [a]}":                  `parse metrics config: retina: json: unknown field "pods"`,
	} {
		cfg, err := ParseConfig([]byte(data))
		if err == nil {
			err = cfg.Validate()
		}
		if err == nil || err.Error() != wantErr {
			t.Errorf("%s: error %v, want %s", data, err, wantErr)
		}
	}
}

// TestRetinaApplyKeepsSeries: applying the same Retina config keeps its
// series; switching it off takes them out of the next scrape.
func TestRetinaApplyKeepsSeries(t *testing.T) {
	now := time.Unix(1000, 0)
	m, n := newRetinaMetrics(t, RetinaConfig{Mode: RetinaBasic}, &now)
	feed(m, n, sampleFlows...)
	before := scrape(t, m.RetinaCollector())
	if err := m.Apply(Config{Retina: RetinaConfig{Mode: RetinaBasic}, Metrics: []MetricConfig{{Name: "flow"}}}); err != nil {
		t.Fatal(err)
	}
	if after := scrape(t, m.RetinaCollector()); after != before {
		t.Errorf("series changed by applying the same config:\n%s\nwant\n%s", after, before)
	}
	if err := m.Apply(Config{}); err != nil {
		t.Fatal(err)
	}
	if after := scrape(t, m.RetinaCollector()); after != "" {
		t.Errorf("series left after switching Retina off:\n%s", after)
	}
}

// retinaExtraFlows are what sampleFlows lack for the adv_* series: an
// aggregated report, a retransmission, drops with the kernel's reason in
// both directions, and flows of a pod in an excluded namespace.
func retinaExtraFlows(t *testing.T, n *flowview.Node) []record.Record {
	t.Helper()
	out := []record.Record{
		rec{src: "10.0.0.1", dst: "10.0.0.2", sport: 40000, dport: 8080, proto: record.ProtoTCP, tcp: ack, obs: fromEndpoint, reply: no, srcEP: podA, dstEP: podB}.record(n),
		rec{src: "10.0.0.1", dst: "10.0.0.2", sport: 40000, dport: 8080, proto: record.ProtoTCP, tcp: psh | ack, obs: fromEndpoint, reply: no, srcEP: podA, dstEP: podB}.record(n),
		rec{kind: record.KindDrop, src: "10.0.0.1", dst: "203.0.113.7", sport: 40011, dport: 443, proto: record.ProtoTCP, tcp: syn, verdict: dropped, srcEP: podA, dstEP: world}.record(n),
		rec{kind: record.KindDrop, src: "203.0.113.7", dst: "10.0.0.2", sport: 443, dport: 40012, proto: record.ProtoTCP, tcp: ack, verdict: dropped, srcEP: world, dstEP: podB}.record(n),
		rec{src: "10.0.0.53", dst: "10.0.0.1", sport: 53, dport: 50000, proto: record.ProtoUDP, obs: fromEndpoint, reply: yes, srcEP: coreDNS, dstEP: podA}.record(n),
	}
	out[1].Count, out[1].Bytes = 10, 15000
	ref := n.Tables.Names.Intern("skb_drop_reason/NETFILTER_DROP", func() []string { return []string{"NETFILTER_DROP"} })
	out[2].Ext, out[2].Bytes, out[2].Flags = ref, 60, out[2].Flags|record.FlagSent
	out[3].Ext, out[3].Bytes = ref, 52
	retrans := rec{src: "10.0.0.1", dst: "10.0.0.2", sport: 40000, dport: 8080, proto: record.ProtoTCP, tcp: psh | ack,
		obs: flowpb.TraceObservationPoint_FROM_STACK, reply: no, srcEP: podA, dstEP: podB}.record(n)
	retrans.Retransmit = true
	return append(out, retrans)
}

func feedRecords(m *Metrics, recs []record.Record) { m.count(recs) }

// TestRetinaAdvancedGolden: the pods' series in both context modes, for
// pods of the selected namespaces only (kube-system excluded).
func TestRetinaAdvancedGolden(t *testing.T) {
	for _, mode := range []string{ContextRemote, ContextLocal} {
		t.Run(mode, func(t *testing.T) {
			now := time.Unix(1000, 0)
			m, n := newRetinaMetrics(t, RetinaConfig{Mode: RetinaAdvanced, ContextMode: mode,
				Namespaces: NamespaceSelector{Exclude: []string{"kube-system"}}}, &now)
			feed(m, n, sampleFlows...)
			feedRecords(m, retinaExtraFlows(t, n))
			golden(t, "retina-"+mode+".golden", expose(t, gather(t, m.RetinaCollector()),
				"networkobservability_dns_request_count", "networkobservability_dns_response_count"))
		})
	}
}

// BenchmarkRetinaHandlers is the cost per flow of Retina's flow series
// once their series exist: one op is one flow of the sample mix and the
// extra flows, counted by the basic DNS handler and, advanced, the pods'.
func BenchmarkRetinaHandlers(b *testing.B) {
	for _, c := range []RetinaConfig{
		{Mode: RetinaBasic},
		{Mode: RetinaAdvanced, ContextMode: ContextRemote},
		{Mode: RetinaAdvanced, ContextMode: ContextLocal},
	} {
		name := c.Mode
		if c.ContextMode != "" {
			name += "-" + c.ContextMode
		}
		b.Run("mode="+name, func(b *testing.B) {
			now := time.Unix(1700000000, 0)
			n := testNode(b)
			m, err := New(Config{Retina: c}, n, WithClock(func() time.Time { return now }))
			if err != nil {
				b.Fatal(err)
			}
			recs := benchRecords(n)
			m.count(recs)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				j := i % len(recs)
				m.count(recs[j : j+1])
			}
		})
	}
}

// TestRetinaAnnotations: with annotations, the pods carrying Retina's
// annotation are counted besides those of the included namespaces, and
// no other; the same config applied again keeps the series.
func TestRetinaAnnotations(t *testing.T) {
	now := time.Unix(1000, 0)
	n := testNode(t)
	observed := func(namespace, pod string) bool { return namespace == podA.Namespace && pod == podA.PodName }
	c := RetinaConfig{Mode: RetinaAdvanced, Annotations: true, Namespaces: NamespaceSelector{Include: []string{"kube-system"}}}
	m, err := New(Config{Retina: c}, n, WithClock(func() time.Time { return now }), WithObservedPods(observed))
	if err != nil {
		t.Fatal(err)
	}
	feed(m, n, sampleFlows...)
	got := scrape(t, m.RetinaCollector())
	for _, want := range []string{
		`networkobservability_adv_forward_count{destination_ip="10.0.0.2",destination_namespace="shop",destination_pod="cart-0"`,
		`direction="egress",source_ip="10.0.0.1",source_namespace="shop",source_pod="frontend-7d9f-abcde"`,
		`source_pod="coredns-1"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scrape lacks %s:\n%s", want, got)
		}
	}
	// podB's own side is never the counted one: its egress and ingress
	// are not counted.
	if strings.Contains(got, `direction="egress",source_ip="10.0.0.2"`) || strings.Contains(got, `direction="ingress",source_ip="10.0.0.1"`) {
		t.Errorf("a pod without the annotation is counted:\n%s", got)
	}
	if err := m.Apply(Config{Retina: c}); err != nil {
		t.Fatal(err)
	}
	if after := scrape(t, m.RetinaCollector()); after != got {
		t.Errorf("series changed by applying the same config")
	}
	if cfg, err := ParseConfig([]byte("retina: {mode: basic, annotations: true}")); err != nil || cfg.Validate() == nil {
		t.Errorf("annotations in basic mode: %v, accepted", err)
	}
}
