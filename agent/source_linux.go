//go:build linux

package agent

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/agent/intern"
	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/bpf"
)

// newSource loads the eBPF datapath; attach and detach become agent events,
// and ready runs once the interfaces present at start are attached.
func newSource(cfg Config, log *slog.Logger, tables *intern.Tables, reg prometheus.Registerer, events *observer.AgentEvents, ready func()) (Source, error) {
	src, err := bpf.NewSource(bpf.Config{Interfaces: cfg.Interfaces}, log, tables,
		bpf.WithAttachHook(func(name string, index int, attached bool) {
			events.Publish(interfaceEvent(name, index, attached))
		}),
		bpf.WithReady(ready))
	if err != nil {
		return nil, fmt.Errorf("load eBPF datapath: %w", err)
	}
	if err := reg.Register(src.Collector()); err != nil {
		return nil, fmt.Errorf("register datapath metrics: %w", err)
	}
	return src, nil
}
