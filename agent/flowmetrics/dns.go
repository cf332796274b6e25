package flowmetrics

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// The dns handler's own options.
const (
	optQuery      = "query"      // add the query name as a label
	optIgnoreAAAA = "ignoreAAAA" // leave out messages whose only question is AAAA
)

// dnsHandler counts DNS queries, responses and the record types of answers
// (hubble_dns_queries_total, hubble_dns_responses_total,
// hubble_dns_response_types_total).
type dnsHandler struct {
	base
	query, ignoreAAAA           bool
	queries, responses, rrtypes *store
}

func newDNSHandler(b base, flags map[string]bool, limit int) handler {
	h := &dnsHandler{base: b, query: flags[optQuery], ignoreAAAA: flags[optIgnoreAAAA]}
	// Query names are as unbounded as endpoints: their series expire too.
	expires := b.ctx.namesEndpoints() || h.query
	ctx := b.ctx.names()
	common := append(append([]string{}, ctx...), "rcode", "qtypes", "ips_returned")
	types := append(append([]string{}, ctx...), "type", "qtypes")
	if h.query {
		common = append(common, "query")
		types = append(types, "query")
	}
	h.queries = newStore("hubble_dns_queries_total", "Number of DNS queries observed", common, expires, limit)
	h.responses = newStore("hubble_dns_responses_total", "Number of DNS responses observed", common, expires, limit)
	h.rrtypes = newStore("hubble_dns_response_types_total", "Number of DNS response types observed", types, expires, limit)
	return h
}

func (h *dnsHandler) stores() []*store { return []*store{h.queries, h.responses, h.rrtypes} }

func (h *dnsHandler) observe(ev *event) {
	dns := ev.dns
	if dns == nil {
		return
	}
	if q := dns.GetQtypes(); h.ignoreAAAA && len(q) == 1 && q[0] == "AAAA" {
		return
	}
	if !h.match(ev) {
		return
	}
	k := h.ctx.appendValues(h.key[:0], ev)
	prefix := len(k)
	reply, _ := ev.Rec.Reply()
	switch {
	case flowpb.Verdict(ev.Rec.Verdict) == flowpb.Verdict_DROPPED:
		k = h.appendMessage(k, "Policy denied", dns)
		h.queries.inc(k, ev.now)
	case !reply:
		k = h.appendMessage(k, "", dns)
		h.queries.inc(k, ev.now)
	default:
		k = h.appendMessage(k, rcodeNames[dns.GetRcode()], dns)
		h.responses.inc(k, ev.now)
		for _, typ := range dns.GetRrtypes() {
			k = appendValue(k[:prefix], typ)
			k = h.appendQtypes(k, dns)
			if h.query {
				k = appendValue(k, dns.GetQuery())
			}
			h.rrtypes.inc(k, ev.now)
		}
	}
	h.key = k
}

// appendMessage appends the labels of a query or response after the
// context's: rcode, qtypes, ips_returned and, with the query option, query.
func (h *dnsHandler) appendMessage(k []byte, rcode string, dns *flowpb.DNS) []byte {
	k = appendName(k, rcode)
	k = h.appendQtypes(k, dns)
	k = appendUint(k, uint64(len(dns.GetIps())))
	if h.query {
		k = appendValue(k, dns.GetQuery())
	}
	return k
}

func (h *dnsHandler) appendQtypes(k []byte, dns *flowpb.DNS) []byte {
	at := len(k)
	return endValue(appendJoined(beginValue(k), dns.GetQtypes()), at)
}
