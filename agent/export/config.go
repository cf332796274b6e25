package export

import (
	"fmt"

	"sigs.k8s.io/yaml"
)

// configFile is a flow log configuration file: Cilium's dynamic exporter
// configuration, of which Fovea takes every key but fieldAggregate and
// aggregationInterval.
type configFile struct {
	FlowLogs []Spec `json:"flowLogs"`
}

// ParseConfig reads a flow log configuration file (YAML or JSON). Unknown
// keys are errors, so that a misspelt one does not go unnoticed.
func ParseConfig(data []byte) ([]Spec, error) {
	var f configFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("parse flow log configuration: %w", err)
	}
	return f.FlowLogs, nil
}
