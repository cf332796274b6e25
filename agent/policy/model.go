package policy

import (
	"fmt"
	"net/netip"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"
)

// Direction is the direction a policy rule applies to, relative to the pod
// it selects.
type Direction uint8

const (
	// Ingress is traffic into the selected pod.
	Ingress Direction = iota
	// Egress is traffic out of the selected pod.
	Egress
)

func (d Direction) String() string {
	if d == Egress {
		return "egress"
	}
	return "ingress"
}

// Pod is what policies select a pod by.
type Pod struct {
	Namespace, Name string
	Labels          labels.Set
	NamespaceLabels labels.Set
	// Ports are the pod's named container ports, which rules may name
	// instead of numbers.
	Ports []NamedPort
	// Local says the pod runs on the agent's node: only its policies are
	// this agent's to report, so two agents never report one decision.
	Local bool
}

// NamedPort is a container port with a name.
type NamedPort struct {
	Name  string
	Port  uint16
	Proto uint8
}

// port resolves a named port of the pod for proto; zero if it has none.
func (p *Pod) port(name string, proto uint8) uint16 {
	for _, np := range p.Ports {
		if np.Name == name && np.Proto == proto {
			return np.Port
		}
	}
	return 0
}

// Action is what a rule does with the traffic it matches.
type Action uint8

const (
	// Allow accepts the traffic (every NetworkPolicy rule).
	Allow Action = iota
	// Deny drops it (cluster policies).
	Deny
	// Pass hands it to the NetworkPolicies (Admin tier cluster policies).
	Pass
)

// Tier orders policies: Admin cluster policies before NetworkPolicies,
// Baseline cluster policies after them.
type Tier uint8

const (
	TierAdmin Tier = iota
	TierNetworkPolicy
	TierBaseline
)

// Policy is a compiled policy: which pods it selects, in which directions
// it isolates them, and its rules.
type Policy struct {
	// ID is how flows name the policy (Hubble's Policy message).
	ID *flowpb.Policy
	// Key identifies the policy and its revision: "kind/namespace/name@generation".
	Key  string
	Tier Tier
	// Priority orders cluster policies within their tier: lower first.
	Priority int32
	// Namespace is a NetworkPolicy's namespace; empty for cluster policies.
	Namespace string
	subject   selector
	// isolates says which directions a NetworkPolicy isolates its pods in.
	isolates [2]bool
	rules    [2][]rule
}

// selector selects pods by their labels and their namespace's labels; a
// nil selector matches everything.
type selector struct {
	pods, namespaces labels.Selector
	// namespace, when set, is the only namespace matched (a
	// NetworkPolicy's own, for pod selectors without a namespace selector).
	namespace string
}

func (s *selector) matches(p *Pod) bool {
	if s.namespace != "" && p.Namespace != s.namespace {
		return false
	}
	if s.namespaces != nil && !s.namespaces.Matches(p.NamespaceLabels) {
		return false
	}
	return s.pods == nil || s.pods.Matches(p.Labels)
}

// rule is one ingress or egress rule: it matches traffic whose peer is one
// of peers (nil: any peer) and whose destination port is one of ports
// (nil: any).
type rule struct {
	action Action
	// name is the rule's name (cluster policies).
	name string
	// id names the policy and this rule in flows: the policy's ID with a
	// label naming the rule (see nameRules); key is its intern key.
	id    *flowpb.Policy
	key   string
	peers []peer
	// anyPeer is true for a rule without peers: every peer matches.
	anyPeer bool
	ports   []port
}

// peer is one entry of a rule's from/to: pods by selector, or addresses.
type peer struct {
	pods *selector
	// nodes selects by node labels (cluster policies); peers that are
	// nodes are not known to the evaluator, so it never matches.
	nodes bool
	nets  []netip.Prefix
	// except are the ipBlock's exceptions.
	except []netip.Prefix
}

// port matches a destination port: a number or a range for one
// protocol, a name resolved against the destination pod, or (port 0, no
// name) every port of the protocol.
type port struct {
	proto     uint8
	port, end uint16
	name      string
}

// match types, Hubble's policy_match_type (Cilium's monitor API values).
const (
	matchNone    = 0
	matchL3Only  = 1
	matchL3L4    = 2
	matchL4Only  = 3
	matchAll     = 4
	matchL3Proto = 5
)

// labelRule names, among a Policy message's labels, the rule that matched:
// its field ("spec.ingress[0]") and, for a cluster policy's named rule, its
// name. Hubble clients read kind, name and namespace from Cilium's labels
// and ignore the others; this one is Fovea's own source.
const labelRule = "fovea:policy.rule="

// nameRules gives each rule of p the ID and key that name it.
func (p *Policy) nameRules() {
	for dir, field := range [2]string{Ingress: "spec.ingress", Egress: "spec.egress"} {
		for i := range p.rules[dir] {
			ru := &p.rules[dir][i]
			name := fmt.Sprintf("%s[%d]", field, i)
			if ru.name != "" {
				name += " (" + ru.name + ")"
			}
			id := proto.Clone(p.ID).(*flowpb.Policy)
			id.Labels = append(id.Labels, labelRule+name)
			ru.id, ru.key = id, p.Key+"/"+name
		}
	}
}

// Decider is a policy that decided a connection and its rule that matched;
// no rule for a denial by isolation, which no rule made.
type Decider struct {
	Policy *Policy
	rule   *rule
}

// ID names the decider in flows.
func (d Decider) ID() *flowpb.Policy {
	if d.rule != nil {
		return d.rule.id
	}
	return d.Policy.ID
}

func (d Decider) key() string {
	if d.rule != nil {
		return d.rule.key
	}
	return d.Policy.Key
}

// matchType is the policy_match_type of traffic a rule matched.
func (r *rule) matchType() uint32 {
	switch {
	case r.anyPeer && len(r.ports) == 0:
		return matchAll
	case r.anyPeer:
		return matchL4Only
	case len(r.ports) == 0:
		return matchL3Only
	}
	return matchL3L4
}
