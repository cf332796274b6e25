package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func testFlags() (*pflag.FlagSet, *int, *string, *[]string) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	n := fs.Int("ring-capacity", 4095, "")
	s := fs.String("node-name", "default", "")
	l := fs.StringSlice("interfaces", nil, "")
	return fs, n, s, l
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fovea.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrecedenceCommandLineEnvFileDefault(t *testing.T) {
	fs, n, s, l := testFlags()
	cfg := writeConfig(t, "ring-capacity: 63\nnode-name: from-file\ninterfaces: [eth0, veth*]\n")
	t.Setenv("FOVEA_NODE_NAME", "from-env")
	if err := fs.Parse([]string{"--ring-capacity=127"}); err != nil {
		t.Fatal(err)
	}
	if err := fillUnsetFlags(fs, cfg); err != nil {
		t.Fatal(err)
	}
	if *n != 127 || *s != "from-env" || strings.Join(*l, ",") != "eth0,veth*" {
		t.Fatalf("got ring-capacity=%d node-name=%q interfaces=%v", *n, *s, *l)
	}
}

func TestBadValuesNameTheFlagAndSource(t *testing.T) {
	fs, _, _, _ := testFlags()
	t.Setenv("FOVEA_RING_CAPACITY", "lots")
	err := fillUnsetFlags(fs, "")
	if err == nil || !strings.Contains(err.Error(), "--ring-capacity") || !strings.Contains(err.Error(), "FOVEA_RING_CAPACITY") {
		t.Fatalf("err = %v", err)
	}

}

func TestConfigFileErrors(t *testing.T) {
	fs, _, _, _ := testFlags()
	err := fillUnsetFlags(fs, writeConfig(t, "ring-capacty: 7\n"))
	if err == nil || !strings.Contains(err.Error(), `"ring-capacty"`) {
		t.Fatalf("unknown key: err = %v", err)
	}

	fs, _, _, _ = testFlags()
	err = fillUnsetFlags(fs, writeConfig(t, "ring-capacity: many\n"))
	if err == nil || !strings.Contains(err.Error(), "--ring-capacity") || !strings.Contains(err.Error(), "fovea.yaml") {
		t.Fatalf("bad file value: err = %v", err)
	}

	fs, _, _, _ = testFlags()
	if err := fillUnsetFlags(fs, filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("a missing config file must be an error")
	}
}
