package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runFovea(args ...string) (string, error) {
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestAgentRejectsBadSettingsNamingTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"agent", "--ring-capacity", "1000"}, want: "--ring-capacity"},
		{args: []string{"agent", "--ring-capacity", "many"}, want: "--ring-capacity"},
		{args: []string{"agent", "--node-name", ""}, want: "--node-name"},
		{args: []string{"agent", "--interfaces", "veth[", "--node-name", "n"}, want: "--interfaces"},
		{args: []string{"agent", "--listen-address", ":4244", "--node-name", "n"}, want: "--tls-cert-file"},
		{args: []string{"agent", "--local-addrs-refresh", "0s", "--node-name", "n"}, want: "--local-addrs-refresh"},
		{args: []string{"agent", "--intern-sweep-interval", "0s", "--node-name", "n"}, want: "--intern-sweep-interval"},
		{args: []string{"agent", "--log-level", "loud"}, want: "--log-level"},
		{args: []string{"agent", "--no-such-flag"}, want: "--no-such-flag"},
		{args: []string{"agent"}, env: map[string]string{"FOVEA_RING_CAPACITY": "12"}, want: "--ring-capacity"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := runFovea(tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestHelpDocumentsDefaults(t *testing.T) {
	out, err := runFovea("agent", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--ring-capacity int", "(default 4095)", "--socket-path", "/var/run/fovea/hubble.sock", "--listen-address", ":4244", "--insecure", "--tls-client-ca-files"} {
		if !strings.Contains(out, want) {
			t.Errorf("agent --help lacks %q", want)
		}
	}
}
