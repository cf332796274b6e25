package filters

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// anyFQDN matches any DNS name (with underscores); it fills the cluster or
// node part a node-name pattern leaves empty.
const anyFQDN = `(?:[-0-9_a-z]+(?:\.[-0-9_a-z]+)*)`

// writeFQDNPattern appends the regexp of one FQDN pattern: lower-cased,
// trimmed, one trailing dot dropped, "*" standing for any run of name
// characters.
func writeFQDNPattern(sb *strings.Builder, pattern string) error {
	p := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(pattern), "."))
	switch {
	case p == "":
		return errors.New("empty pattern")
	case strings.HasSuffix(p, "."):
		return fmt.Errorf("pattern %s has more than one trailing dot", quoted(pattern))
	}
	for _, r := range p {
		switch {
		case r == '.':
			sb.WriteString(`\.`)
		case r == '*':
			sb.WriteString(`[-.0-9a-z]*`)
		case r == '-', r == '_', '0' <= r && r <= '9', 'a' <= r && r <= 'z':
			sb.WriteRune(r)
		default:
			return fmt.Errorf("pattern %s: invalid character %q", quoted(pattern), r)
		}
	}
	return nil
}

// writeNodeNamePattern appends the regexp of a "cluster/node" pattern; an
// empty or missing part matches any name.
func writeNodeNamePattern(sb *strings.Builder, pattern string) error {
	if pattern == "" {
		return errors.New("empty pattern")
	}
	cluster, node, found := strings.Cut(pattern, "/")
	if !found {
		cluster, node = "", pattern
	} else if strings.Contains(node, "/") {
		return fmt.Errorf("pattern %s has more than one slash", quoted(pattern))
	}
	for i, part := range []string{cluster, node} {
		if i > 0 {
			sb.WriteByte('/')
		}
		if part == "" {
			sb.WriteString(anyFQDN)
			continue
		}
		if err := writeFQDNPattern(sb, part); err != nil {
			return err
		}
	}
	return nil
}

// compileAlternatives compiles patterns into one anchored regexp matching
// any of them, charged to the request's budget.
func (b *budget) compileAlternatives(patterns []string, write func(*strings.Builder, string) error) (*regexp.Regexp, error) {
	var sb strings.Builder
	sb.WriteString(`\A(?:`)
	for i, p := range patterns {
		if i > 0 {
			sb.WriteByte('|')
		}
		if err := write(&sb, p); err != nil {
			return nil, err
		}
	}
	sb.WriteString(`)\z`)
	return b.compileRegexp(sb.String())
}
