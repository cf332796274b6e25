package filters

import (
	"strings"
	"unicode"
)

// translateSelector rewrites the keys of a label selector from Cilium's
// "source:key" form to the "source.key" form a Kubernetes selector accepts
// (colons are not allowed in its keys); a key without a source gets "any.",
// which matches labels of every source. Values are copied unchanged.
func translateSelector(selector string) string {
	var out strings.Builder
	rest := selector
	for rest != "" {
		// Leading blanks and negations ("!key") precede the key.
		i := strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsSpace(r) && r != '!' })
		if i < 0 {
			// No key follows: the empty key below becomes "any.", which the
			// selector parser rejects, as Hubble does.
			i = len(rest)
		}
		out.WriteString(rest[:i])
		rest = rest[i:]

		end := strings.IndexFunc(rest, func(r rune) bool {
			return unicode.IsSpace(r) || r == '=' || r == '!' || r == ','
		})
		if end < 0 {
			end = len(rest)
		}
		key := rest[:end]
		rest = rest[end:]
		if !strings.Contains(key, ":") {
			out.WriteString("any.")
		}
		out.WriteString(strings.Replace(key, ":", ".", 1))

		// The operator and values run to the next comma outside parentheses.
		end = requirementEnd(rest)
		out.WriteString(rest[:end])
		rest = rest[end:]
	}
	return out.String()
}

// requirementEnd returns the index just past the comma that ends the
// requirement at the start of s, or len(s).
func requirementEnd(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}
