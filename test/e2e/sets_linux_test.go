//go:build linux

package e2e

import (
	"fmt"
	"slices"
	"strings"
)

// diffSets returns the elements of want not in got and those of got not in
// want, each sorted by their text: what a test of an exact set of flows
// reports when the set is off.
func diffSets[T interface {
	comparable
	fmt.Stringer
}](got, want []T) (missing, extra []T) {
	for _, p := range want {
		if !slices.Contains(got, p) {
			missing = append(missing, p)
		}
	}
	for _, p := range got {
		if !slices.Contains(want, p) {
			extra = append(extra, p)
		}
	}
	return sortSet(missing), sortSet(extra)
}

func sortSet[T fmt.Stringer](set []T) []T {
	slices.SortFunc(set, func(a, b T) int { return strings.Compare(a.String(), b.String()) })
	return set
}

// listSet writes set one element a line, sorted, for an error message.
func listSet[T fmt.Stringer](set []T) string {
	if len(set) == 0 {
		return " none"
	}
	var b strings.Builder
	for _, p := range sortSet(slices.Clone(set)) {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}
