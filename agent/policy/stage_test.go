package policy

import (
	"net/netip"
	"slices"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/prometheus/client_golang/prometheus/testutil"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

type stageFixture struct {
	t      *testing.T
	tables *intern.Tables
	node   *flowview.Node
	store  *Store
	stage  *Stage
	// server and client run on this node, peer (app=client in x) and
	// remote (app=client in y) on another.
	server, client, peer, remote intern.Ref
	events                       []string
}

func endpointRef(tables *intern.Tables, name string) intern.Ref {
	return tables.Endpoints.Intern(name, func() *flowpb.Endpoint { return &flowpb.Endpoint{PodName: name} })
}

// newStageFixture: serverX on this node isolated by deny-all and
// allow-client (app=client on TCP 80); clientX on this node, egress limited
// to 198.51.100.0/24; a pod clientY on another node.
func newStageFixture(t *testing.T) *stageFixture {
	f := &stageFixture{t: t, tables: intern.NewTables()}
	f.node = flowview.NewNode("node-1", "default", "v0", nil, f.tables)
	f.server, f.client, f.remote = endpointRef(f.tables, "server"), endpointRef(f.tables, "client"), endpointRef(f.tables, "remote")
	f.peer = endpointRef(f.tables, "peer")
	localClient := *clientX
	localClient.Local = true
	pods := map[intern.Ref]*Pod{f.server: serverX, f.client: &localClient, f.peer: clientX, f.remote: clientY}
	var ps []*Policy
	for _, np := range []*networkingv1.NetworkPolicy{
		netpol("x", "deny-all", networkingv1.NetworkPolicySpec{PolicyTypes: ingressOnly}),
		netpol("x", "allow-client", networkingv1.NetworkPolicySpec{
			PodSelector: *sel("app", "server"), PolicyTypes: ingressOnly,
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: sel("app", "client")}},
				Ports: []networkingv1.NetworkPolicyPort{tcpPort(80)},
			}},
		}),
		netpol("x", "egress-cidr", networkingv1.NetworkPolicySpec{
			PodSelector: *sel("app", "client"), PolicyTypes: egressOnly,
			Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{
				CIDR: "198.51.100.0/24", Except: []string{"198.51.100.128/25"}}}}}},
		}),
	} {
		p, err := CompileNetworkPolicy(np)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	f.store = NewStore()
	f.store.Replace(NewSnapshot(ps, pods, 1))
	f.stage = NewStage(f.store, f.tables, WithStageNotify(func(ev, detail string) { f.events = append(f.events, ev+": "+detail) }))
	return f
}

// syn is a TCP SYN from src to dst:dport seen at obs, not a reply.
func syn(srcRef, dstRef intern.Ref, src, dst string, dport uint16, obs flowpb.TraceObservationPoint) record.Record {
	r := record.Record{
		Time: 1_700_000_000_000_000_000, Kind: record.KindTrace, Proto: record.ProtoTCP, SrcPort: 40000, DstPort: dport,
		TCPFlags: record.TCPSyn, Verdict: uint8(flowpb.Verdict_FORWARDED), ObsPoint: uint8(obs),
		SrcEndpoint: srcRef, DstEndpoint: dstRef,
	}
	r.SetAddrs(netip.MustParseAddr(src), netip.MustParseAddr(dst))
	r.SetReply(false)
	return r
}

func (f *stageFixture) drop(r record.Record, kernelReason string, reason flowpb.DropReason) record.Record {
	r.Kind, r.ObsPoint, r.Verdict, r.DropReason = record.KindDrop, 0, uint8(flowpb.Verdict_DROPPED), uint16(reason)
	r.Ext = f.tables.Names.Intern("skb_drop_reason/"+kernelReason, func() []string { return []string{kernelReason} })
	return r
}

func (f *stageFixture) flow(r *record.Record) *flowpb.Flow {
	var e flowview.Flow
	e.Reset(f.node, r, 1)
	return e.Flow()
}

func policyNames(ps []*flowpb.Policy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Kind+":"+p.Namespace+"/"+p.Name)
	}
	return out
}

func TestStageReportsAllowedIngressWhereThePacketEntersThePod(t *testing.T) {
	f := newStageFixture(t)
	r := syn(f.peer, f.server, "10.0.0.2", "10.0.0.1", 80, flowpb.TraceObservationPoint_FROM_NETWORK)
	if out := f.stage.Observe(&r); len(out) != 0 {
		t.Fatalf("FROM_NETWORK reported %d verdicts", len(out))
	}
	r.ObsPoint = uint8(flowpb.TraceObservationPoint_TO_ENDPOINT)
	out := f.stage.Observe(&r)
	if len(out) != 1 {
		t.Fatalf("TO_ENDPOINT reported %d verdicts, want 1", len(out))
	}
	fl := f.flow(&out[0])
	if fl.GetEventType().GetType() != flowview.EventTypePolicyVerdict || fl.GetVerdict() != flowpb.Verdict_FORWARDED ||
		fl.GetTrafficDirection() != flowpb.TrafficDirection_INGRESS || fl.GetPolicyMatchType() != matchL3L4 ||
		fl.GetIsReply() == nil || fl.GetIsReply().GetValue() {
		t.Fatalf("verdict flow %v", fl)
	}
	if got := policyNames(fl.GetIngressAllowedBy()); !slices.Equal(got, []string{"NetworkPolicy:x/allow-client"}) {
		t.Errorf("ingress_allowed_by %v", got)
	}
	if out := f.stage.Observe(&r); len(out) != 0 {
		t.Errorf("the same connection reported again")
	}
}

func TestStageAuditsADeniedConnectionTheNodeDelivered(t *testing.T) {
	f := newStageFixture(t)
	r := syn(f.remote, f.server, "10.1.0.2", "10.0.0.1", 80, flowpb.TraceObservationPoint_FROM_NETWORK)
	if out := f.stage.Observe(&r); len(out) != 0 {
		t.Fatalf("a denied connection before forwarding reported %d verdicts: a drop inferred from silence?", len(out))
	}
	r.ObsPoint = uint8(flowpb.TraceObservationPoint_TO_ENDPOINT)
	out := f.stage.Observe(&r)
	if len(out) != 1 {
		t.Fatalf("reported %d verdicts, want 1", len(out))
	}
	fl := f.flow(&out[0])
	if fl.GetVerdict() != flowpb.Verdict_AUDIT || fl.GetTrafficDirection() != flowpb.TrafficDirection_INGRESS {
		t.Fatalf("verdict %v direction %v, want AUDIT INGRESS", fl.GetVerdict(), fl.GetTrafficDirection())
	}
	want := []string{"NetworkPolicy:x/deny-all", "NetworkPolicy:x/allow-client"}
	if got := policyNames(fl.GetIngressDeniedBy()); !slices.Equal(got, want) {
		t.Errorf("ingress_denied_by %v, want %v", got, want)
	}
	if n := testutil.ToFloat64(f.stage.m.unenforced.WithLabelValues("ingress", "NetworkPolicy", "x", "deny-all")); n != 1 {
		t.Errorf("unenforced{deny-all} = %v, want 1", n)
	}
	r2 := syn(f.remote, f.server, "10.1.0.2", "10.0.0.1", 81, flowpb.TraceObservationPoint_TO_ENDPOINT)
	f.stage.Observe(&r2)
	if n := testutil.ToFloat64(f.stage.m.unenforced.WithLabelValues("ingress", "NetworkPolicy", "x", "deny-all")); n != 2 {
		t.Errorf("unenforced{deny-all} = %v after a second connection, want 2", n)
	}
	if len(f.events) != 2 {
		t.Errorf("agent events %q, want one per policy", f.events)
	}
}

func TestStageNamesThePolicyOfAFirewallDrop(t *testing.T) {
	f := newStageFixture(t)
	r := f.drop(syn(f.remote, f.server, "10.1.0.2", "10.0.0.1", 80, 0), "NETFILTER_DROP", flowpb.DropReason_POLICY_DENIED)
	out := f.stage.Observe(&r)
	if len(out) != 1 {
		t.Fatalf("reported %d verdicts, want 1", len(out))
	}
	v := f.flow(&out[0])
	if v.GetVerdict() != flowpb.Verdict_DROPPED || v.GetDropReasonDesc() != flowpb.DropReason_POLICY_DENIED ||
		v.GetSummary() != "TCP Flags: SYN; kernel drop reason: NETFILTER_DROP" || v.GetIsReply() != nil {
		t.Fatalf("verdict flow %v", v)
	}
	d := f.flow(&r)
	if got := policyNames(d.GetIngressDeniedBy()); len(got) != 2 || d.GetTrafficDirection() != flowpb.TrafficDirection_INGRESS {
		t.Errorf("drop ingress_denied_by %v direction %v", got, d.GetTrafficDirection())
	}
	// The SYN retransmitted and dropped again is the same connection.
	r = f.drop(syn(f.remote, f.server, "10.1.0.2", "10.0.0.1", 80, 0), "NETFILTER_DROP", flowpb.DropReason_POLICY_DENIED)
	if out := f.stage.Observe(&r); len(out) != 0 {
		t.Errorf("a retransmitted SYN's drop reported again")
	}
}

func TestStageSaysADropIsNotThePolicies(t *testing.T) {
	f := newStageFixture(t)
	r := f.drop(syn(f.peer, f.server, "10.0.0.2", "10.0.0.1", 80, 0), "NETFILTER_DROP", flowpb.DropReason_POLICY_DENIED)
	if out := f.stage.Observe(&r); len(out) != 0 {
		t.Fatalf("an allowed connection's drop reported %d verdicts", len(out))
	}
	d := f.flow(&r)
	if got := policyNames(d.GetIngressAllowedBy()); !slices.Equal(got, []string{"NetworkPolicy:x/allow-client"}) {
		t.Errorf("ingress_allowed_by %v", got)
	}
	if d.GetSummary() != "TCP Flags: SYN; kernel drop reason: NETFILTER_DROP"+flowview.NotPolicyDropSummary {
		t.Errorf("summary %q", d.GetSummary())
	}
	// Denied, but dropped for want of a socket: not the policy's drop.
	r = f.drop(syn(f.remote, f.server, "10.1.0.2", "10.0.0.1", 80, 0), "NO_SOCKET", flowpb.DropReason_SOCKET_LOOKUP_FAILED)
	if out := f.stage.Observe(&r); len(out) != 0 {
		t.Errorf("a NO_SOCKET drop of a denied connection reported a policy drop")
	}
}

func TestStageAuditsBothDirectionsOfOneNode(t *testing.T) {
	f := newStageFixture(t)
	// The local client's egress to the server is outside its CIDR:
	// entering the server's pod, the connection is delivered against the
	// client's egress policy, and allowed by the server's ingress ones.
	r := syn(f.client, f.server, "10.0.0.2", "10.0.0.1", 80, flowpb.TraceObservationPoint_TO_ENDPOINT)
	out := f.stage.Observe(&r)
	if len(out) != 2 {
		t.Fatalf("reported %d verdicts, want 2", len(out))
	}
	eg, in := f.flow(&out[0]), f.flow(&out[1])
	if eg.GetVerdict() != flowpb.Verdict_AUDIT || !slices.Equal(policyNames(eg.GetEgressDeniedBy()), []string{"NetworkPolicy:x/egress-cidr"}) {
		t.Errorf("egress verdict %v", eg)
	}
	if in.GetVerdict() != flowpb.Verdict_FORWARDED || !slices.Equal(policyNames(in.GetIngressAllowedBy()), []string{"NetworkPolicy:x/allow-client"}) {
		t.Errorf("ingress verdict %v", in)
	}
}

func TestStageEgress(t *testing.T) {
	f := newStageFixture(t)
	world := endpointRef(f.tables, "world")
	allowed := syn(f.client, world, "10.0.0.2", "198.51.100.7", 443, flowpb.TraceObservationPoint_FROM_ENDPOINT)
	if out := f.stage.Observe(&allowed); len(out) != 0 {
		t.Fatalf("egress reported before forwarding, where a service's address is not translated yet")
	}
	allowed.ObsPoint = uint8(flowpb.TraceObservationPoint_TO_NETWORK)
	out := f.stage.Observe(&allowed)
	if len(out) != 1 || flowpb.Verdict(out[0].Verdict) != flowpb.Verdict_FORWARDED {
		t.Fatalf("allowed egress reported %v", out)
	}
	if fl := f.flow(&out[0]); fl.GetTrafficDirection() != flowpb.TrafficDirection_EGRESS ||
		!slices.Equal(policyNames(fl.GetEgressAllowedBy()), []string{"NetworkPolicy:x/egress-cidr"}) {
		t.Errorf("egress verdict %v", fl)
	}
	denied := syn(f.client, world, "10.0.0.2", "198.51.100.200", 443, flowpb.TraceObservationPoint_FROM_ENDPOINT)
	if out := f.stage.Observe(&denied); len(out) != 0 {
		t.Fatalf("denied egress reported before forwarding")
	}
	denied.ObsPoint = uint8(flowpb.TraceObservationPoint_TO_NETWORK)
	out = f.stage.Observe(&denied)
	if len(out) != 1 || flowpb.Verdict(out[0].Verdict) != flowpb.Verdict_AUDIT {
		t.Fatalf("denied egress leaving the node reported %v, want one AUDIT", out)
	}
	// A reply is never decided.
	reply := syn(world, f.client, "198.51.100.200", "10.0.0.2", 40000, flowpb.TraceObservationPoint_TO_ENDPOINT)
	reply.SetReply(true)
	if out := f.stage.Observe(&reply); len(out) != 0 {
		t.Errorf("a reply reported %d verdicts", len(out))
	}
}

func TestStageCachesUntilThePoliciesChange(t *testing.T) {
	f := newStageFixture(t)
	r := syn(f.peer, f.server, "10.0.0.2", "10.0.0.1", 80, flowpb.TraceObservationPoint_TO_ENDPOINT)
	f.stage.Observe(&r)
	r.SrcPort++
	f.stage.Observe(&r)
	if c, e := f.stage.m.cached.Load(), f.stage.m.evaluated.Load(); c != 1 || e != 1 {
		t.Fatalf("cached %d evaluated %d, want 1 1", c, e)
	}
	// The policy allowing the client is deleted: a new generation.
	snap := f.store.Load()
	var ps []*Policy
	for _, p := range snap.namespaced["x"] {
		if p.ID.Name != "allow-client" {
			ps = append(ps, p)
		}
	}
	f.store.Replace(NewSnapshot(ps, snap.pods, 2))
	r.SrcPort++
	out := f.stage.Observe(&r)
	if len(out) != 1 || flowpb.Verdict(out[0].Verdict) != flowpb.Verdict_AUDIT {
		t.Fatalf("after the allowing policy's deletion: %v, want one AUDIT", out)
	}
}

func TestStageMarksTheSetsItMayStillWrite(t *testing.T) {
	f := newStageFixture(t)
	r := syn(f.peer, f.server, "10.0.0.2", "10.0.0.1", 80, flowpb.TraceObservationPoint_TO_ENDPOINT)
	out := f.stage.Observe(&r)
	ref := out[0].Policy
	for range 3 {
		m := f.tables.NewMarks()
		f.stage.MarkRefs(m)
		if _, err := f.tables.Sweep(m); err != nil {
			t.Fatal(err)
		}
	}
	if f.tables.Policies.Get(ref) == nil {
		t.Fatal("a cached policy set was freed")
	}
}

func TestStageLeavesTheNodeIntoItsPods(t *testing.T) {
	f := newStageFixture(t)
	host := f.tables.Endpoints.Intern("host", func() *flowpb.Endpoint { return &flowpb.Endpoint{Identity: 1, Labels: []string{"reserved:host"}} })
	r := syn(host, f.server, "172.30.0.1", "10.0.0.1", 8080, flowpb.TraceObservationPoint_TO_ENDPOINT)
	if out := f.stage.Observe(&r); len(out) != 0 {
		t.Fatalf("the node's own connection into its pod reported %d verdicts", len(out))
	}
	world := endpointRef(f.tables, "world")
	r = syn(world, f.server, "192.0.2.1", "10.0.0.1", 8080, flowpb.TraceObservationPoint_TO_ENDPOINT)
	if out := f.stage.Observe(&r); len(out) != 1 || flowpb.Verdict(out[0].Verdict) != flowpb.Verdict_AUDIT {
		t.Fatalf("another address into the isolated pod: %v, want one AUDIT", out)
	}
}
