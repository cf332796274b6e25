package flowmetrics

import "testing"

// FuzzParseConfig: any metrics config file parses and validates, or fails
// with an error.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"metrics:\n- name: flow\n  contextOptions:\n  - name: sourceContext\n    values: [namespace]\n",
		"metrics:\n- name: dns\n  includeFilters: [{source_pod: [\"a/\"]}]\n  excludeFilters: [{sourcePod: [b/]}]\n",
		"retina:\n  contextMode: local\n  namespaces: {include: [shop]}\n",
		"metrics: [{name: drop}, {name: drop}]\n",
		"{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			return
		}
		_ = cfg.Validate()
	})
}

// FuzzParseSpec: any --metrics value parses and validates, or fails with
// an error.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"dns:query;ignoreAAAA drop:sourceContext=pod;destinationContext=namespace", "flow", "tcp:labelsContext=source_ip", "httpV2:exemplars=true"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		cfg, err := ParseSpec(spec)
		if err != nil {
			return
		}
		_ = cfg.Validate()
	})
}
