package flowmetrics

import (
	"strings"

	"github.com/foveanet/fovea/model/record"
)

// policyHandler counts policy verdicts by direction, match type and
// action (hubble_policy_verdicts_total), as Cilium's policy handler
// counts its L3/L4 verdicts. Fovea has no L7 policy verdicts.
type policyHandler struct {
	base
	verdicts *store
}

func newPolicyHandler(b base, _ map[string]bool, limit int) handler {
	return &policyHandler{
		base: b,
		verdicts: newStore("hubble_policy_verdicts_total", "Total number of Cilium network policy verdicts",
			b.labels("direction", "match", "action"), b.ctx.namesEndpoints(), limit),
	}
}

func (h *policyHandler) stores() []*store { return []*store{h.verdicts} }

// hostIdentity is Cilium's reserved identity of the node: Cilium skips
// verdicts from it, since the host may reach its local endpoints.
const hostIdentity = 1

func (h *policyHandler) observe(ev *event) {
	if ev.Rec.Kind != record.KindPolicyVerdict || ev.SrcEndpoint().GetIdentity() == hostIdentity || !h.match(ev) {
		return
	}
	// A verdict always has a direction: ingress or egress.
	k := appendName(h.key[:0], directionNames[ev.dir])
	k = appendName(k, matchTypeName(ev.Rec.Detail))
	k = appendName(k, lowerVerdictNames[ev.Rec.Verdict])
	k = h.ctx.appendValues(k, ev)
	h.verdicts.inc(k, ev.now)
	h.key = k
}

// matchTypeName is Cilium's name of a policy_match_type, lower-cased.
func matchTypeName(m uint32) string {
	switch m {
	case 0:
		return "none"
	case 1:
		return "l3-only"
	case 2:
		return "l3-l4"
	case 3:
		return "l4-only"
	case 4:
		return "all"
	case 5:
		return "l3-proto"
	case 6:
		return "proto-only"
	}
	return "unknown"
}

// lowerVerdictNames are the verdicts' names lower-cased, as the action
// label has them.
var lowerVerdictNames = func() (names [256]string) {
	for i, n := range verdictNames {
		names[i] = strings.ToLower(n)
	}
	return names
}()
