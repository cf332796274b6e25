package policy

import (
	"fmt"
	"log/slog"
	"net/netip"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// Stage evaluates the first packet of each connection direction between
// the source and the ring, and ties the verdict to what the kernel did:
//
//   - allowed: a policy verdict event, FORWARDED, naming the policies that
//     allowed it, where the packet leaves the node or enters the
//     destination pod (past the node's forwarding: a service's address
//     translated, the firewalls passed);
//   - denied and dropped by the kernel for a firewall (netfilter, tc): the
//     drop names the denying policies, and a policy verdict event, DROPPED
//     with POLICY_DENIED, keeps the kernel's reason in its summary;
//   - denied but delivered (seen past the node's forwarding: entering the
//     destination pod, leaving the node): a policy verdict event, AUDIT,
//     counted by policy and announced once per policy as an agent event,
//     because the CNI does not enforce that policy;
//   - dropped by the kernel while the policies allow it: the drop names
//     the allowing policies and says the drop was not theirs.
//
// A denied connection neither delivered nor dropped is not reported: a
// drop is never inferred from silence. Only the policies of pods on this
// node are evaluated, so two agents never report one decision. Stage is
// used by the pipeline's single writer goroutine.
type Stage struct {
	store  *Store
	tables *intern.Tables
	cache  *cache
	conns  *conns
	out    [2]record.Record
	m      *stageMetrics
	log    *slog.Logger
	notify func(event, detail string)
	// announced are the policies reported unenforced, by kind/namespace/name.
	announced map[string]bool
}

// StageOption configures a Stage.
type StageOption func(*Stage)

// WithStageLogger sets where unenforced policies are logged.
func WithStageLogger(log *slog.Logger) StageOption { return func(s *Stage) { s.log = log } }

// WithStageNotify calls notify("policy_unenforced", detail) the first time
// a policy is found unenforced, for agent events.
func WithStageNotify(notify func(event, detail string)) StageOption {
	return func(s *Stage) { s.notify = notify }
}

// NewStage returns a stage evaluating store's snapshots; policy sets are
// interned in tables.Policies.
func NewStage(store *Store, tables *intern.Tables, opts ...StageOption) *Stage {
	s := &Stage{
		store: store, tables: tables, cache: newCache(tables.Policies), conns: newConns(), m: newStageMetrics(),
		log: slog.New(slog.DiscardHandler), notify: func(string, string) {}, announced: map[string]bool{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Observe decides r's connection if r is its first packet in a direction
// (or a drop of one), sets a drop's policies, and returns the policy
// verdict records to store before r. The slice is reused by the next call.
func (s *Stage) Observe(r *record.Record) []record.Record {
	out := s.out[:0]
	if (r.Kind != record.KindTrace && r.Kind != record.KindDrop) || !opensConnection(r) {
		return out
	}
	snap := s.store.Load()
	if snap.decidesNothing() {
		return out
	}
	// Past forwarding the packet carries the address a service's
	// translation chose, which is what egress rules are about, and a
	// denied packet seen there was delivered; ingress is decided where the
	// packet enters the pod. Before, nothing is decided.
	obs := flowpb.TraceObservationPoint(r.ObsPoint)
	drop := r.Kind == record.KindDrop
	decideEgress, decideIngress := drop || pastForwarding(obs), drop || obs == flowpb.TraceObservationPoint_TO_ENDPOINT
	if !decideEgress && !decideIngress {
		return out
	}
	src, dst := snap.Pod(r.SrcEndpoint), snap.Pod(r.DstEndpoint)
	var egress, ingress Decision
	if decideEgress && src != nil && src.Local {
		egress = s.decide(snap, Egress, r, src, dst, r.SrcEndpoint, r.DstEndpoint, r.DstAddr())
	}
	// Kubernetes always allows a pod's own node into it (kubelet probes).
	if decideIngress && dst != nil && dst.Local && (src != nil || !s.fromHost(r)) {
		ingress = s.decide(snap, Ingress, r, dst, src, r.DstEndpoint, r.SrcEndpoint, r.SrcAddr())
	}
	if drop {
		return s.dropped(r, egress, ingress, out)
	}
	for _, d := range [2]struct {
		dir      Direction
		decision Decision
	}{{Egress, egress}, {Ingress, ingress}} {
		switch d.decision.Outcome {
		case Allowed:
			out = s.report(r, d.dir, d.decision, flowpb.Verdict_FORWARDED, out)
		case Denied:
			out = s.report(r, d.dir, d.decision, flowpb.Verdict_AUDIT, out)
		}
	}
	return out
}

// dropped names on a drop the policies that denied its connection (egress
// first: it is decided first), else those that allowed it, and reports a
// denial the kernel enforced.
func (s *Stage) dropped(r *record.Record, egress, ingress Decision, out []record.Record) []record.Record {
	dir, d := Egress, egress
	switch {
	case egress.Outcome == Denied:
	case ingress.Outcome == Denied:
		dir, d = Ingress, ingress
	case egress.Outcome == Allowed:
	case ingress.Outcome == Allowed:
		dir, d = Ingress, ingress
	default:
		return out
	}
	r.Policy = d.Policies
	r.Flags |= directionFlag(dir)
	if d.Outcome != Denied {
		return out
	}
	r.Flags |= record.FlagPolicyDenied
	if !s.firewallDrop(r) {
		// Dropped, but not by a firewall (no socket, no route): the
		// denial is not what the kernel enforced.
		return out
	}
	return s.report(r, dir, d, flowpb.Verdict_DROPPED, out)
}

// fromHost reports whether r comes from the local node.
func (s *Stage) fromHost(r *record.Record) bool {
	return s.tables.Endpoints.Get(r.SrcEndpoint).GetIdentity() == endpoints.IdentityHost
}

// firewallDrop reports whether the kernel dropped r for a firewall: a
// netfilter rule, a cgroup program (POLICY_DENIED) or a tc program.
func (s *Stage) firewallDrop(r *record.Record) bool {
	if flowpb.DropReason(r.DropReason) == flowpb.DropReason_POLICY_DENIED {
		return true
	}
	names := s.tables.Names.Get(r.Ext)
	return len(names) == 1 && (names[0] == "TC_INGRESS" || names[0] == "TC_EGRESS")
}

func (s *Stage) decide(snap *Snapshot, dir Direction, r *record.Record, local, peer *Pod, localRef, peerRef intern.Ref, peerAddr netip.Addr) Decision {
	port := r.DstPort
	if r.Proto != record.ProtoTCP && r.Proto != record.ProtoUDP && r.Proto != record.ProtoSCTP {
		port = 0
	}
	k := cacheKey{local: localRef, peer: peerRef, addr: peerAddr.As16(), port: port, proto: r.Proto, dir: dir}
	if d, ok := s.cache.lookup(snap, k); ok {
		s.m.cached.Add(1)
		return d
	}
	s.m.evaluated.Add(1)
	return s.cache.evaluate(snap, k, &Conn{Dir: dir, Local: local, Peer: peer, PeerAddr: peerAddr, Port: port, Proto: r.Proto})
}

// report appends a policy verdict record for r's connection in dir, once
// per connection direction and verdict.
func (s *Stage) report(r *record.Record, dir Direction, d Decision, verdict flowpb.Verdict, out []record.Record) []record.Record {
	k := connKey{src: r.Src, dst: r.Dst, sport: r.SrcPort, dport: r.DstPort, proto: r.Proto, dir: dir, verdict: uint8(verdict)}
	if s.conns.seen(k, r.Time) {
		return out
	}
	v := record.Record{
		Time: r.Time, Src: r.Src, Dst: r.Dst, SrcPort: r.SrcPort, DstPort: r.DstPort, TCPFlags: r.TCPFlags,
		Flags: r.Flags&record.FlagIPv6 | directionFlag(dir), Kind: record.KindPolicyVerdict, Proto: r.Proto,
		Verdict: uint8(verdict), ICMPType: r.ICMPType, ICMPCode: r.ICMPCode, Iface: r.Iface,
		SrcEndpoint: r.SrcEndpoint, DstEndpoint: r.DstEndpoint, SrcService: r.SrcService, DstService: r.DstService,
		SrcNames: r.SrcNames, DstNames: r.DstNames, Bytes: r.Bytes, Detail: uint32(d.Match), Policy: d.Policies,
	}
	switch verdict {
	case flowpb.Verdict_DROPPED:
		v.DropReason = uint16(flowpb.DropReason_POLICY_DENIED)
		v.Ext = r.Ext // the kernel's reason, for the summary
	default:
		v.SetReply(false)
	}
	if verdict == flowpb.Verdict_AUDIT {
		s.unenforced(dir, d, r)
	}
	return append(out, v)
}

// unenforced counts a denied connection the kernel delivered against each
// denying policy, and announces each policy the first time.
func (s *Stage) unenforced(dir Direction, d Decision, r *record.Record) {
	for _, p := range s.tables.Policies.Get(d.Policies) {
		s.m.unenforced.WithLabelValues(dir.String(), p.Kind, p.Namespace, p.Name).Inc()
		key := p.Kind + "/" + p.Namespace + "/" + p.Name
		if s.announced[key] {
			continue
		}
		s.announced[key] = true
		name := p.Name
		if p.Namespace != "" {
			name = p.Namespace + "/" + p.Name
		}
		detail := fmt.Sprintf("%s %s denies %s %s:%d → %s:%d, but the connection was delivered: the network does not enforce it",
			p.Kind, name, dir, netipOf(r, true), r.SrcPort, netipOf(r, false), r.DstPort)
		s.log.Warn("network policy not enforced", "kind", p.Kind, "policy", name, "direction", dir.String(),
			"source", netipOf(r, true), "destination", netipOf(r, false), "port", r.DstPort)
		s.notify("policy_unenforced", detail)
	}
}

func netipOf(r *record.Record, src bool) netip.Addr {
	if src {
		return r.SrcAddr()
	}
	return r.DstAddr()
}

func directionFlag(dir Direction) record.Flags {
	if dir == Egress {
		return record.FlagPolicyEgress
	}
	return 0
}

// opensConnection reports whether r is a packet in its connection's
// initial direction: connection tracking says it is not a reply, or, when
// it does not know, a TCP SYN without ACK. Retransmissions are not.
func opensConnection(r *record.Record) bool {
	if r.Retransmit {
		return false
	}
	if reply, known := r.Reply(); known {
		return !reply
	}
	return r.Proto == record.ProtoTCP && r.TCPFlags&(record.TCPSyn|record.TCPAck) == record.TCPSyn
}

// pastForwarding reports whether a packet seen at obs has passed the
// node's forwarding, where firewalls decide: it is entering a pod or
// leaving the node.
func pastForwarding(obs flowpb.TraceObservationPoint) bool {
	switch obs {
	case flowpb.TraceObservationPoint_TO_ENDPOINT, flowpb.TraceObservationPoint_TO_NETWORK,
		flowpb.TraceObservationPoint_TO_OVERLAY:
		return true
	}
	return false
}

// MarkRefs marks the policy sets the stage may still write into records.
func (s *Stage) MarkRefs(m *intern.Marks) { s.cache.MarkRefs(m) }
