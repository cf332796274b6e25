// Command valuesdoc writes the table of a Helm chart's values into its
// README, between the lines "<!-- values:start -->" and
// "<!-- values:end -->", from the values file's own comments: a value is
// documented by the comment lines above its key that start with "# --"
// (helm-docs' convention), and a map documented so is one row; an
// undocumented value is an error, so every value is documented in place.
// With --check it changes nothing and fails if the README's table is not
// the one it would write.
//
//	valuesdoc --values helm/fovea/values.yaml --readme helm/fovea/README.md [--check]
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

const (
	startMarker = "<!-- values:start -->"
	endMarker   = "<!-- values:end -->"
)

func main() {
	var values, readme string
	var check bool
	flag.StringVar(&values, "values", "", "the chart's values.yaml")
	flag.StringVar(&readme, "readme", "", "the README holding the table")
	flag.BoolVar(&check, "check", false, "fail if the README's table is stale instead of writing it")
	flag.Parse()
	if err := run(values, readme, check); err != nil {
		fmt.Fprintln(os.Stderr, "valuesdoc:", err)
		os.Exit(1)
	}
}

func run(values, readme string, check bool) error {
	src, err := os.ReadFile(values)
	if err != nil {
		return err
	}
	table, err := Table(src)
	if err != nil {
		return fmt.Errorf("%s: %w", values, err)
	}
	doc, err := os.ReadFile(readme)
	if err != nil {
		return err
	}
	before, rest, ok1 := bytes.Cut(doc, []byte(startMarker+"\n"))
	_, after, ok2 := bytes.Cut(rest, []byte(endMarker))
	if !ok1 || !ok2 {
		return fmt.Errorf("%s: no %s … %s section", readme, startMarker, endMarker)
	}
	updated := bytes.Join([][]byte{before, []byte(startMarker + "\n"), []byte(table), []byte(endMarker), after}, nil)
	if bytes.Equal(updated, doc) {
		return nil
	}
	if check {
		return fmt.Errorf("%s: the values table is stale: run `make chart-docs` and commit", readme)
	}
	return os.WriteFile(readme, updated, 0o644)
}

type row struct{ key, typ, def, desc string }

// Table is the Markdown table of the values in src.
func Table(src []byte) (string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return "", err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return "", errors.New("not a map of values")
	}
	var rows []row
	if err := walk(doc.Content[0], "", &rows); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| key | type | default | description |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.key, r.typ, r.def, r.desc)
	}
	return b.String(), nil
}

func walk(m *yaml.Node, prefix string, rows *[]row) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := prefix + k.Value
		desc := description(k.HeadComment)
		switch {
		case desc != "":
			def, err := defaultOf(v)
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			*rows = append(*rows, row{key, typeOf(v), def, desc})
		case v.Kind == yaml.MappingNode && len(v.Content) > 0:
			if err := walk(v, key+".", rows); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s (line %d): no `# --` comment documents it", key, k.Line)
		}
	}
	return nil
}

// description is the text of the "# --" comment lines, and of the comment
// lines that continue them, at the end of a key's head comment.
func description(comment string) string {
	lines := strings.Split(comment, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if text, ok := strings.CutPrefix(lines[i], "# -- "); ok {
			parts := []string{text}
			for _, l := range lines[i+1:] {
				parts = append(parts, strings.TrimSpace(strings.TrimPrefix(l, "#")))
			}
			return strings.ReplaceAll(strings.Join(parts, " "), "|", `\|`)
		}
	}
	return ""
}

func typeOf(v *yaml.Node) string {
	switch v.Kind {
	case yaml.MappingNode:
		return "object"
	case yaml.SequenceNode:
		return "list"
	}
	switch v.Tag {
	case "!!int":
		return "int"
	case "!!bool":
		return "bool"
	case "!!float":
		return "float"
	}
	return "string"
}

func defaultOf(v *yaml.Node) (string, error) {
	var value any
	if err := v.Decode(&value); err != nil {
		return "", err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(value); err != nil {
		return "", err
	}
	return "`" + strings.ReplaceAll(strings.TrimSpace(b.String()), "|", `\|`) + "`", nil
}
