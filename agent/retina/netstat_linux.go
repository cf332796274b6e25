//go:build linux

package retina

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

// readNetstat reads /proc/self/net/netstat: the statistics of the agent's
// network namespace, the node's.
func readNetstat() ([]prometheus.Metric, error) {
	fs, err := procfs.NewFS(procfs.DefaultMountPoint)
	if err != nil {
		return nil, fmt.Errorf("open /proc: %w", err)
	}
	p, err := fs.Self()
	if err != nil {
		return nil, fmt.Errorf("open /proc/self: %w", err)
	}
	ns, err := p.Netstat()
	if err != nil {
		return nil, fmt.Errorf("read netstat: %w", err)
	}
	return netstatSeries(ns), nil
}
