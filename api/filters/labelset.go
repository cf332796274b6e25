package filters

import (
	"net/netip"
	"strings"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// Label sources with special matching rules.
const (
	sourceAny      = "any"
	sourceUnspec   = "unspec"
	sourceReserved = "reserved"
	sourceCIDR     = "cidr"
)

// label is one Cilium label, "source:key=value", split in place.
type label struct{ source, key, value string }

// parseLabel splits a label the way Cilium does: "$key" is a reserved
// label, a missing source is "unspec", the value follows the first "=".
func parseLabel(s string, delim byte) label {
	var l label
	switch i := strings.IndexByte(s, delim); {
	case s == "":
		return label{source: sourceUnspec}
	case s[0] == '$':
		l.source, s = sourceReserved, s[1:]
	case i < 0:
		l.source = sourceUnspec
	default:
		l.source, s = s[:i], s[i+1:]
	}
	i := strings.IndexByte(s, '=')
	switch {
	case i < 0:
		l.key = s
	case i == 0 && l.source == sourceReserved:
		l.key = s[1:]
	default:
		l.key, l.value = s[:i], s[i+1:]
	}
	return l
}

// hasKey reports whether l has the selecting label's key: a target of
// source "any" matches every source, and a CIDR target matches labels of
// CIDRs it contains.
func (l label) hasKey(target label) bool {
	if target.source != sourceAny && l.source != target.source {
		return false
	}
	if target.source == sourceCIDR && l.source == sourceCIDR {
		t, okT := cidrOfKey(target.key)
		c, okC := cidrOfKey(l.key)
		return okT && okC && t.Bits() <= c.Bits() && t.Contains(c.Addr())
	}
	return l.key == target.key
}

// cidrOfKey parses a CIDR label key; IPv6 ones spell ":" as "-".
func cidrOfKey(key string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(strings.ReplaceAll(key, "-", ":"))
	return p, err == nil
}

// lookupLabel finds the first label having key, given in the selector's
// "source.key" form.
func lookupLabel(labels []string, key string) (string, bool) {
	target := parseLabel(key, '.')
	if target.source == sourceUnspec {
		target.source = sourceAny
	}
	for _, s := range labels {
		if l := parseLabel(s, ':'); l.hasKey(target) {
			return l.value, true
		}
	}
	return "", false
}

// endpointLabels and nodeLabels present label lists to Kubernetes
// selectors. endpointLabels is a pointer conversion of the interned
// endpoint, so passing it as an interface does not allocate; nodeLabels
// is matched once per version of the node's labels (nodeLabelsCache).
type (
	endpointLabels flowpb.Endpoint
	nodeLabels     []string
)

func (l *endpointLabels) list() []string { return (*flowpb.Endpoint)(l).GetLabels() }

func (l *endpointLabels) Has(key string) bool {
	_, ok := lookupLabel(l.list(), key)
	return ok
}

func (l *endpointLabels) Get(key string) string {
	v, _ := lookupLabel(l.list(), key)
	return v
}

func (l *endpointLabels) Lookup(key string) (string, bool) { return lookupLabel(l.list(), key) }

func (l nodeLabels) Has(key string) bool {
	_, ok := lookupLabel(l, key)
	return ok
}

func (l nodeLabels) Get(key string) string {
	v, _ := lookupLabel(l, key)
	return v
}

func (l nodeLabels) Lookup(key string) (string, bool) { return lookupLabel(l, key) }
