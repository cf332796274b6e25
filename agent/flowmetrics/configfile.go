package flowmetrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"
)

// configFile and metricFile are the file's levels, their lists kept raw
// until each entry is decoded on its own, so that an error can name the
// entry it is in.
type configFile struct {
	Metrics []json.RawMessage `json:"metrics"`
	Retina  json.RawMessage   `json:"retina"`
}

type metricFile struct {
	Name           string            `json:"name"`
	ContextOptions []json.RawMessage `json:"contextOptions"`
	IncludeFilters []json.RawMessage `json:"includeFilters"`
	ExcludeFilters []json.RawMessage `json:"excludeFilters"`
}

// ParseConfig reads a metrics config file: YAML in the shape of Cilium's
// dynamic metrics config (its hubble-dynamic-metrics-config ConfigMap),
//
//	metrics:
//	- name: drop
//	  contextOptions:
//	  - {name: sourceContext, values: [pod]}
//	  includeFilters:
//	  - {source_pod: [shop/]}
//	retina:
//	  mode: advanced
//	  contextMode: local
//	  namespaces: {include: [shop]}
//
// with Hubble FlowFilters, their fields named as in the proto (source_pod)
// or in JSON (sourcePod). Unknown or repeated keys and filters that do not
// decode are errors naming the entry they are in; Validate checks the
// handlers', options' and labels' names. Its retina section enables
// Retina's flow series (RetinaConfig).
func ParseConfig(data []byte) (Config, error) {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return Config{}, fmt.Errorf("parse metrics config: %w", err)
	}
	var f configFile
	if err := decodeStrict(js, &f); err != nil {
		return Config{}, fmt.Errorf("parse metrics config: %w", err)
	}
	var cfg Config
	for i, raw := range f.Metrics {
		m, err := parseMetric(raw)
		if err != nil {
			return Config{}, fmt.Errorf("parse metrics config: metrics[%d]%s: %w", i, nameOf(raw), err)
		}
		cfg.Metrics = append(cfg.Metrics, m)
	}
	if f.Retina != nil {
		if err := decodeStrict(f.Retina, &cfg.Retina); err != nil {
			return Config{}, fmt.Errorf("parse metrics config: retina: %w", err)
		}
	}
	return cfg, nil
}

func parseMetric(raw json.RawMessage) (MetricConfig, error) {
	var f metricFile
	if err := decodeStrict(raw, &f); err != nil {
		return MetricConfig{}, err
	}
	if f.Name == "" {
		return MetricConfig{}, errors.New("name: required")
	}
	m := MetricConfig{Name: f.Name}
	for i, raw := range f.ContextOptions {
		var o ContextOption
		if err := decodeStrict(raw, &o); err != nil {
			return MetricConfig{}, fmt.Errorf("contextOptions[%d]%s: %w", i, nameOf(raw), err)
		}
		if o.Name == "" {
			return MetricConfig{}, fmt.Errorf("contextOptions[%d]: name: required", i)
		}
		m.ContextOptions = append(m.ContextOptions, o)
	}
	var err error
	if m.IncludeFilters, err = parseFilters("includeFilters", f.IncludeFilters); err != nil {
		return MetricConfig{}, err
	}
	if m.ExcludeFilters, err = parseFilters("excludeFilters", f.ExcludeFilters); err != nil {
		return MetricConfig{}, err
	}
	return m, nil
}

// parseFilters decodes FlowFilters as Hubble's API does from JSON: its
// own field names or the proto's, enums by name.
func parseFilters(field string, raws []json.RawMessage) ([]*flowpb.FlowFilter, error) {
	var ffs []*flowpb.FlowFilter
	for i, raw := range raws {
		ff := new(flowpb.FlowFilter)
		if err := protojson.Unmarshal(raw, ff); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		ffs = append(ffs, ff)
	}
	return ffs, nil
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// nameOf is " (name)" of an entry that has one, read leniently so that it
// shows even when the entry does not decode.
func nameOf(raw json.RawMessage) string {
	var id struct{ Name string }
	if json.Unmarshal(raw, &id) != nil || id.Name == "" {
		return ""
	}
	return " (" + id.Name + ")"
}
