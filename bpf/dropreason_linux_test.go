//go:build linux

package bpf

import "testing"

// TestLoadDropReasonNames reads the running kernel's enum and checks that
// the reasons the agent must tell apart are there.
func TestLoadDropReasonNames(t *testing.T) {
	names, err := loadDropReasonNames()
	if err != nil {
		t.Fatalf("loadDropReasonNames: %v", err)
	}
	known := make(map[string]bool, len(names))
	for _, n := range names {
		known[n] = true
	}
	for _, must := range []string{"NO_SOCKET", "NETFILTER_DROP", "NOT_SPECIFIED"} {
		if !known[must] {
			t.Errorf("kernel enum lacks %s: %v", must, names)
		}
	}
}
