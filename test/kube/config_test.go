package kube

import (
	"strings"
	"testing"
)

func TestConfigNamesMakeTargetWhenBinariesMissing(t *testing.T) {
	t.Setenv(EtcdBinEnv, "")
	t.Setenv(APIServerBinEnv, "")
	_, err := Config{Dir: t.TempDir()}.withDefaults()
	if err == nil || !strings.Contains(err.Error(), "make kube-tools") {
		t.Fatalf("withDefaults without binaries: %v, want an error naming `make kube-tools`", err)
	}
	_, err = Config{EtcdBin: "/nonexistent/etcd", APIServerBin: "/nonexistent/kube-apiserver", Dir: t.TempDir()}.withDefaults()
	if err == nil || !strings.Contains(err.Error(), "make kube-tools") {
		t.Fatalf("withDefaults with missing files: %v, want an error naming `make kube-tools`", err)
	}
}
