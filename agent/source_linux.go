//go:build linux

package agent

import (
	"fmt"
	"log/slog"

	"github.com/foveanet/fovea/agent/retina"
	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/bpf"
	"github.com/foveanet/fovea/model/intern"
)

// newSource loads the eBPF datapath; attach and detach become agent events,
// and ready runs once the interfaces present at start are attached.
func newSource(cfg Config, log *slog.Logger, tables *intern.Tables, l7 bpf.L7Parser, events *observer.AgentEvents, ready func()) (Source, error) {
	// Non-nil: empty means none. Validate bounded the ports.
	dnsPorts, vxlanPorts, genevePorts := ports16(cfg.DNSPorts), ports16(cfg.VXLANPorts), ports16(cfg.GenevePorts)
	agg, err := bpf.ParseAggregation(cfg.Aggregation)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flagAggregation, err)
	}
	bcfg := bpf.Config{
		Aggregation:            agg,
		AggregationInterval:    cfg.AggregationInterval,
		SampleRate:             uint32(cfg.SampleRate), // Validate bounded it
		Interfaces:             cfg.Interfaces,
		DNSPorts:               dnsPorts,
		VXLANPorts:             vxlanPorts,
		GenevePorts:            genevePorts,
		DisableDrops:           cfg.DisableDrops,
		DisableRetransmissions: cfg.DisableRetransmissions,
		ReportUnspecifiedDrops: cfg.ReportUnspecifiedDrops,
		HTTPRate:               cfg.HTTP.Rate(),
	}
	opts := []bpf.Option{
		bpf.WithAttachHook(func(name string, index int, attached bool) {
			events.Publish(interfaceEvent(name, index, attached))
		}),
		bpf.WithReady(ready),
	}
	if l7 != nil {
		opts = append(opts, bpf.WithL7Parser(l7))
	}
	src, err := bpf.NewSource(bcfg, log, tables, opts...)
	if err != nil {
		return nil, fmt.Errorf("load eBPF datapath: %w", err)
	}
	return src, nil
}

// retinaDatapath reads Retina's forward and drop series from the source,
// when it is the eBPF datapath.
func retinaDatapath(src Source) []retina.Option {
	if dp, ok := src.(retina.Datapath); ok {
		return []retina.Option{retina.WithDatapath(dp)}
	}
	return nil
}
