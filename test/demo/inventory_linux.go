//go:build linux

package demo

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/foveanet/fovea/agent/inventory"
	"github.com/foveanet/fovea/test/cluster"
)

// Inventory describes t's pods as an agent inventory. Every pod belongs to
// the Deployment named by its app label, as a Deployment's pods would.
func Inventory(t cluster.Topology) *inventory.File {
	f := &inventory.File{}
	for _, p := range t.Pods() {
		f.Pods = append(f.Pods, inventory.Pod{
			Namespace:      p.Namespace,
			Name:           p.Name,
			Labels:         p.Labels,
			IPs:            []string{p.IPv4.String(), p.IPv6.String()},
			Node:           p.Node,
			ServiceAccount: "default",
			Workload:       &inventory.Workload{Kind: "Deployment", Name: p.Labels["app"]},
		})
	}
	return f
}

// WriteInventory writes f to path atomically (write, then rename), so an
// agent polling the file never reads half of it.
func WriteInventory(path string, f *inventory.File) error {
	data, err := f.Marshal()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write inventory: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	return nil
}
