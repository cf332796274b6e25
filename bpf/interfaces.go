package bpf

import (
	"fmt"
	"path"
	"strings"
)

// selector is one entry of Config.Interfaces: a name glob and, when fixed,
// the role of the interfaces it selects.
type selector struct {
	glob  string
	role  role
	fixed bool
}

// parseSelector parses "glob" or "glob=role".
func parseSelector(s string) (selector, error) {
	glob, r, fixed := strings.Cut(s, "=")
	if _, err := path.Match(glob, ""); err != nil || glob == "" {
		return selector{}, fmt.Errorf("parse interface %q: bad glob %q", s, glob)
	}
	sel := selector{glob: glob, fixed: fixed}
	if fixed {
		var err error
		if sel.role, err = parseRole(r); err != nil {
			return selector{}, fmt.Errorf("parse interface %q: %w", s, err)
		}
	}
	return sel, nil
}

// ValidateInterfaces reports the first entry of Config.Interfaces that
// does not parse.
func ValidateInterfaces(entries []string) error {
	_, err := parseSelectors(entries)
	return err
}

func parseSelectors(entries []string) ([]selector, error) {
	out := make([]selector, 0, len(entries))
	for _, e := range entries {
		sel, err := parseSelector(e)
		if err != nil {
			return nil, err
		}
		out = append(out, sel)
	}
	return out, nil
}

// match returns the first selector whose glob matches name.
func match(sels []selector, name string) (selector, bool) {
	for _, s := range sels {
		if ok, _ := path.Match(s.glob, name); ok {
			return s, true
		}
	}
	return selector{}, false
}
