package export

import "testing"

// FuzzParseConfig: any flow log configuration file parses and each flow log
// validates, or fails with an error.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"flowLogs:\n- name: all\n  filePath: /var/run/fovea/flows.log\n",
		"flowLogs:\n- name: drops\n  filePath: /tmp/d.log\n  includeFilters: [{verdict: [DROPPED]}]\n  fieldMask: [source.namespace, verdict]\n  end: \"2030-01-01T00:00:00Z\"\n",
		"flowLogs:\n- name: x\n  filePath: rel\n  fileMaxSizeMb: -1\n",
		"{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		specs, err := ParseConfig(data)
		if err != nil {
			return
		}
		for i := range specs {
			_ = specs[i].Validate()
		}
	})
}

// FuzzParseFilters: any --export-allowlist value parses or fails with an
// error.
func FuzzParseFilters(f *testing.F) {
	for _, s := range []string{`{"source_pod":["kube-system/"]}{"verdict":["DROPPED"]}`, `{"sourceIp":["10.0.0.0/8"]}`, `[`, `{"x":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseFilters(s)
	})
}
