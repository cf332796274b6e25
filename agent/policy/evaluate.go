package policy

import (
	"net/netip"
)

// Outcome is what the policies decided for a connection direction.
type Outcome uint8

const (
	// NotIsolated: no policy selects the pod in that direction, so
	// Kubernetes allows the traffic and no policy is to name.
	NotIsolated Outcome = iota
	// Allowed by the named policies' rules.
	Allowed
	// Denied by the named policies: a Deny rule of a cluster policy, or
	// isolation by NetworkPolicies none of whose rules match (then every
	// isolating policy is named).
	Denied
)

// Result is the decision for one connection direction.
type Result struct {
	Outcome Outcome
	// Match is Hubble's policy_match_type of the deciding rule.
	Match uint32
	// Policies decided it, in evaluation order, with their rules.
	Policies []Decider
}

// Conn is one direction of a connection as policies see it: the pod the
// policies select (Local), the pod at the other end if it is one (nil for
// an address outside the cluster's pods), the other end's address, and
// the destination port and protocol.
type Conn struct {
	Dir      Direction
	Local    *Pod
	Peer     *Pod
	PeerAddr netip.Addr
	Port     uint16
	Proto    uint8
}

// Evaluate decides c by the Kubernetes semantics: Admin tier cluster
// policies by priority (the first rule matching decides; Pass hands over
// to NetworkPolicies), then the NetworkPolicies selecting the pod (any
// rule of any of them allows; isolation denies the rest), then Baseline
// tier cluster policies for pods no NetworkPolicy isolates.
func (s *Snapshot) Evaluate(c *Conn) Result {
	if r, decided := firstMatch(s.admin, c); decided {
		return r
	}
	if r := s.evaluateNamespaced(c); r.Outcome != NotIsolated {
		return r
	}
	r, _ := firstMatch(s.baseline, c)
	return r
}

// firstMatch returns the decision of the first rule of policies matching
// c; decided is false when none matched or a Pass did.
func firstMatch(policies []*Policy, c *Conn) (r Result, decided bool) {
	for _, p := range policies {
		if !p.subject.matches(c.Local) {
			continue
		}
		for i := range p.rules[c.Dir] {
			ru := &p.rules[c.Dir][i]
			if !ru.matches(c) {
				continue
			}
			switch ru.action {
			case Pass:
				return Result{}, false
			case Deny:
				return Result{Outcome: Denied, Match: ru.matchType(), Policies: []Decider{{p, ru}}}, true
			default:
				return Result{Outcome: Allowed, Match: ru.matchType(), Policies: []Decider{{p, ru}}}, true
			}
		}
	}
	return Result{}, false
}

func (s *Snapshot) evaluateNamespaced(c *Conn) Result {
	var isolating, allowing []Decider
	match := uint32(matchNone)
	for _, p := range s.namespaced[c.Local.Namespace] {
		if !p.isolates[c.Dir] || !p.subject.matches(c.Local) {
			continue
		}
		isolating = append(isolating, Decider{Policy: p})
		for i := range p.rules[c.Dir] {
			if ru := &p.rules[c.Dir][i]; ru.matches(c) {
				if len(allowing) == 0 {
					match = ru.matchType()
				}
				allowing = append(allowing, Decider{p, ru})
				break
			}
		}
	}
	switch {
	case len(allowing) > 0:
		return Result{Outcome: Allowed, Match: match, Policies: allowing}
	case len(isolating) > 0:
		return Result{Outcome: Denied, Match: matchNone, Policies: isolating}
	}
	return Result{}
}

func (r *rule) matches(c *Conn) bool {
	if !r.anyPeer && !r.peerMatches(c) {
		return false
	}
	if len(r.ports) == 0 {
		return true
	}
	// The destination pod resolves named ports: the selected pod for
	// ingress, the peer for egress.
	dst := c.Local
	if c.Dir == Egress {
		dst = c.Peer
	}
	for i := range r.ports {
		if r.ports[i].matches(c.Port, c.Proto, dst) {
			return true
		}
	}
	return false
}

func (r *rule) peerMatches(c *Conn) bool {
	for i := range r.peers {
		if r.peers[i].matches(c.Peer, c.PeerAddr) {
			return true
		}
	}
	return false
}

func (p *peer) matches(pod *Pod, addr netip.Addr) bool {
	if p.pods != nil {
		return pod != nil && p.pods.matches(pod)
	}
	in := false
	for _, n := range p.nets {
		if n.Contains(addr) {
			in = true
			break
		}
	}
	if !in {
		return false
	}
	for _, e := range p.except {
		if e.Contains(addr) {
			return false
		}
	}
	return true
}

func (pt *port) matches(dport uint16, proto uint8, dst *Pod) bool {
	if pt.proto != proto {
		return false
	}
	switch {
	case pt.name != "":
		return dst != nil && dport != 0 && dst.port(pt.name, proto) == dport
	case pt.port == 0:
		return true
	}
	return dport >= pt.port && dport <= pt.end
}
