//go:build linux

package soak

import (
	"os"
	"testing"
	"time"
)

// durationEnv sets how long the churn soak runs and, as a fraction, how
// long each load step lasts: `make soak` runs an hour, the test command
// the short default.
const durationEnv = "FOVEA_SOAK_DURATION"

// shortDuration is the test command's soak: long enough for several sweeps
// of the intern tables and a GC cycle at the memory limit, short enough for
// CI.
const shortDuration = 2 * time.Minute

// soakDuration is FOVEA_SOAK_DURATION, or shortDuration.
func soakDuration(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv(durationEnv)
	if v == "" {
		return shortDuration
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 1h", durationEnv, v)
	}
	return d
}

// long reports whether this is a full soak (make soak) rather than the
// test command's short one.
func long(t *testing.T) bool { return soakDuration(t) > shortDuration }
