package metricstest

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/foveanet/fovea/api/metrics"
)

var update = flag.Bool("update", false, "rewrite the golden lists of series instead of comparing with them")

const header = `# Every series, one a line: name{labels} type: help. Serve adds client_golang's
# go_* and process_* series besides. Generated: go test -run '^%s$' -update
`

// Golden compares the series of regs, each the registry of one
// configuration, with the golden list at path, or rewrites the list with
// -update. A series registered in several configurations is listed once.
func Golden(t testing.TB, path string, regs ...*metrics.Registry) {
	t.Helper()
	byName := map[string]string{}
	for _, r := range regs {
		series, err := r.Series()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range series {
			if prev, ok := byName[s.Name]; ok && prev != s.String() {
				t.Fatalf("configurations disagree on a series:\n%s\n%s", prev, s)
			}
			byName[s.Name] = s.String()
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, header, t.Name())
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		b.WriteString(byName[name] + "\n")
	}
	got := b.String()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("series differ from %s (go test -update rewrites it; review the diff):\n%s", path, diff(string(want), got))
	}
}

// diff lists the lines only want has (-) and only got has (+).
func diff(want, got string) string {
	in := func(s string) map[string]bool {
		set := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			set[l] = true
		}
		return set
	}
	wantSet, gotSet := in(want), in(got)
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !gotSet[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !wantSet[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
