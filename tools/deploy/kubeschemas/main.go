// Command kubeschemas writes the JSON schemas kubeconform validates
// against, with no network: one file per kind, self-contained (each holds
// the definitions it refers to) and strict (an object with documented
// properties takes no other), named as kubeconform's schema-location
// template {{ .ResourceKind }}{{ .KindSuffix }}.json names them, e.g.
// daemonset-apps-v1.json. They come from the Kubernetes OpenAPI document
// of the release the tests run (k8s.io/kubernetes's
// api/openapi-spec/swagger.json) and from CustomResourceDefinitions.
//
//	kubeschemas --out DIR --openapi swagger.json [--crd crd.yaml]...
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

type crdFiles []string

func (c *crdFiles) String() string     { return strings.Join(*c, ",") }
func (c *crdFiles) Set(v string) error { *c = append(*c, v); return nil }

func main() {
	var out, openapi string
	var crds crdFiles
	flag.StringVar(&out, "out", "", "directory to write the schemas into")
	flag.StringVar(&openapi, "openapi", "", "the Kubernetes OpenAPI v2 document (swagger.json)")
	flag.Var(&crds, "crd", "a CustomResourceDefinition YAML file (repeatable)")
	flag.Parse()
	if err := run(out, openapi, crds); err != nil {
		fmt.Fprintln(os.Stderr, "kubeschemas:", err)
		os.Exit(1)
	}
}

func run(out, openapi string, crds []string) error {
	if out == "" || openapi == "" {
		return errors.New("--out and --openapi must be set")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	schemas, err := fromOpenAPI(openapi)
	if err != nil {
		return err
	}
	for _, path := range crds {
		s, err := fromCRD(path)
		if err != nil {
			return err
		}
		maps.Copy(schemas, s)
	}
	for name, s := range schemas {
		data, err := json.MarshalIndent(s, "", " ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("%d schemas in %s\n", len(schemas), out)
	return nil
}

type object = map[string]any

// fileName is the name kubeconform looks for: the kind, the group's first
// label and the version, lower-cased.
func fileName(group, version, kind string) string {
	name := strings.ToLower(kind)
	if group != "" {
		name += "-" + strings.ToLower(strings.Split(group, ".")[0])
	}
	return name + "-" + strings.ToLower(version) + ".json"
}

func apiVersion(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
}

// pinKind makes a kind's schema accept only its own apiVersion and kind.
func pinKind(s object, group, version, kind string) {
	props, _ := s["properties"].(object)
	if props == nil {
		return
	}
	props["apiVersion"] = object{"type": "string", "enum": []any{apiVersion(group, version)}}
	props["kind"] = object{"type": "string", "enum": []any{kind}}
}

func fromOpenAPI(path string) (map[string]object, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Definitions map[string]object `json:"definitions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defs := doc.Definitions
	// Both are strings in the document, but manifests write 8080 for a
	// port and 2 for a CPU quantity, and the API server takes them.
	defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = object{"oneOf": []any{object{"type": "string"}, object{"type": "integer"}}}
	defs["io.k8s.apimachinery.pkg.api.resource.Quantity"] = object{"oneOf": []any{object{"type": "string"}, object{"type": "number"}}}
	for _, d := range defs {
		strict(d)
	}
	out := map[string]object{}
	for name, d := range defs {
		gvks, _ := d["x-kubernetes-group-version-kind"].([]any)
		for _, g := range gvks {
			gvk := g.(object)
			group, version, kind := gvk["group"].(string), gvk["version"].(string), gvk["kind"].(string)
			s := deepCopy(d).(object)
			pinKind(s, group, version, kind)
			closure := map[string]any{}
			collectRefs(s, defs, closure)
			delete(closure, name)
			s["definitions"] = closure
			s["$schema"] = "http://json-schema.org/draft-04/schema#"
			out[fileName(group, version, kind)] = s
		}
	}
	return out, nil
}

// collectRefs adds every definition v refers to, directly or not, to seen.
func collectRefs(v any, defs map[string]object, seen map[string]any) {
	switch v := v.(type) {
	case object:
		if ref, ok := v["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, "#/definitions/")
			if _, done := seen[name]; !done {
				seen[name] = defs[name]
				collectRefs(defs[name], defs, seen)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			collectRefs(v[k], defs, seen)
		}
	case []any:
		for _, e := range v {
			collectRefs(e, defs, seen)
		}
	}
}

// strict forbids undocumented fields in s and every schema in it that
// documents its fields and does not keep unknown ones. It walks schema
// positions only: a field may well be named "properties".
func strict(s object) {
	if s == nil {
		return
	}
	props, hasProps := s["properties"].(object)
	_, hasAdditional := s["additionalProperties"]
	if hasProps && !hasAdditional && s["x-kubernetes-preserve-unknown-fields"] != true {
		s["additionalProperties"] = false
	}
	if s["x-kubernetes-int-or-string"] == true {
		delete(s, "type")
		s["oneOf"] = []any{object{"type": "string"}, object{"type": "integer"}}
	}
	for _, p := range props {
		sub, _ := p.(object)
		strict(sub)
	}
	for _, k := range []string{"items", "additionalProperties", "not"} {
		sub, _ := s[k].(object)
		strict(sub)
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		list, _ := s[k].([]any)
		for _, e := range list {
			sub, _ := e.(object)
			strict(sub)
		}
	}
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case object:
		c := make(object, len(v))
		for k, e := range v {
			c[k] = deepCopy(e)
		}
		return c
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = deepCopy(e)
		}
		return c
	default:
		return v
	}
}

// fromCRD returns the schema of each version a CustomResourceDefinition
// serves.
func fromCRD(path string) (map[string]object, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var crd struct {
		Kind string `json:"kind"`
		Spec struct {
			Group string `json:"group"`
			Names struct {
				Kind string `json:"kind"`
			} `json:"names"`
			Versions []struct {
				Name   string `json:"name"`
				Served bool   `json:"served"`
				Schema struct {
					OpenAPIV3Schema object `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if crd.Kind != "CustomResourceDefinition" {
		return nil, fmt.Errorf("%s: a %q, not a CustomResourceDefinition", path, crd.Kind)
	}
	out := map[string]object{}
	for _, v := range crd.Spec.Versions {
		s := v.Schema.OpenAPIV3Schema
		if !v.Served || s == nil {
			continue
		}
		strict(s)
		pinKind(s, crd.Spec.Group, v.Name, crd.Spec.Names.Kind)
		s["$schema"] = "http://json-schema.org/draft-04/schema#"
		out[fileName(crd.Spec.Group, v.Name, crd.Spec.Names.Kind)] = s
	}
	return out, nil
}
