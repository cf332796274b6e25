package filters

import (
	"fmt"
	"strings"
)

// namespacedName is a pod or service pattern: a namespace (empty: any) and a
// name prefix (empty: any).
type namespacedName struct{ ns, prefix string }

// parseNamespacedNames reads Hubble's "ns/prefix" patterns: a bare "prefix"
// means namespace "default", "ns/" a whole namespace and "/prefix" any
// namespace.
func parseNamespacedNames(field, kind string, values []string) ([]namespacedName, error) {
	out := make([]namespacedName, 0, len(values))
	for _, v := range values {
		if v == "" {
			return nil, fmt.Errorf("%s: %s name must not be empty", field, kind)
		}
		ns, prefix, found := strings.Cut(v, "/")
		switch {
		case !found:
			ns, prefix = "default", v
		case strings.Contains(prefix, "/"):
			return nil, fmt.Errorf("%s: invalid %s %s: want namespace/name", field, kind, quoted(v))
		}
		out = append(out, namespacedName{ns: ns, prefix: prefix})
	}
	return out, nil
}

// matchNamespacedName reports whether ns/name matches any pattern; an event
// with neither never matches.
func matchNamespacedName(patterns []namespacedName, ns, name string) bool {
	if ns == "" && name == "" {
		return false
	}
	for _, p := range patterns {
		if (p.ns == "" || p.ns == ns) && strings.HasPrefix(name, p.prefix) {
			return true
		}
	}
	return false
}
