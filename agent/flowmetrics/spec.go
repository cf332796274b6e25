package flowmetrics

import (
	"fmt"
	"strings"
)

// ParseSpec reads the --metrics flag, in the syntax of Cilium's
// --hubble-metrics: handlers separated by spaces, each optionally followed
// by a colon and options separated by semicolons; an option's values are
// separated by "|" (by "," for labelsContext):
//
//	dns:query;ignoreAAAA drop:sourceContext=pod;destinationContext=namespace flow
//
// It checks the syntax only; Validate checks the names.
func ParseSpec(spec string) (Config, error) {
	var cfg Config
	for _, item := range strings.Fields(spec) {
		name, opts, _ := strings.Cut(item, ":")
		if name == "" {
			return Config{}, fmt.Errorf("parse metric %q: no handler name before the colon", item)
		}
		m := MetricConfig{Name: name}
		for opt := range strings.SplitSeq(opts, ";") {
			if opt == "" {
				continue
			}
			key, value, hasValue := strings.Cut(opt, "=")
			if key == "" {
				return Config{}, fmt.Errorf("parse metric %q: option %q has no name", item, opt)
			}
			o := ContextOption{Name: key}
			if hasValue {
				// Empty values are dropped, as Cilium does; an option left
				// without any is reported by Validate.
				sep := "|"
				if strings.EqualFold(key, optLabelsContext) {
					sep = ","
				}
				o.Values = []string{}
				for v := range strings.SplitSeq(value, sep) {
					if v != "" {
						o.Values = append(o.Values, v)
					}
				}
			}
			m.ContextOptions = append(m.ContextOptions, o)
		}
		cfg.Metrics = append(cfg.Metrics, m)
	}
	return cfg, nil
}
