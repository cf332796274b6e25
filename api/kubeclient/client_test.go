package kubeclient

import (
	"path/filepath"
	"testing"
)

func TestNewMissingKubeconfig(t *testing.T) {
	if _, err := New(filepath.Join(t.TempDir(), "missing"), "fovea-test", NewAPIHealth(nil, nil)); err == nil {
		t.Error("a missing kubeconfig gave no error")
	}
}
