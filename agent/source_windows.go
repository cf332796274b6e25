package agent

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/foveanet/fovea/agent/retina"
	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/bpf"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/windows"
)

// Windows source settings: no flag yet, since PktMon's defaults fit.
const (
	// windowsPacketSize is the bytes of each packet PktMon logs: every
	// header the record holds fits.
	windowsPacketSize = 128
	// windowsEndpointsInterval is how often HNS endpoints are re-listed,
	// as often as the node's own addresses by default.
	windowsEndpointsInterval = 10 * time.Second
)

// newSource starts the PktMon capture and its ETW session; ready runs once
// events are consumed. Validate refused the flags only Linux honours.
func newSource(cfg Config, log *slog.Logger, tables *intern.Tables, _ bpf.L7Parser, _ *observer.AgentEvents, ready func()) (Source, error) {
	src, err := windows.NewSource(context.Background(), windows.Config{
		PacketSize: windowsPacketSize, EndpointsInterval: windowsEndpointsInterval,
	}, log.With("component", "pktmon"), tables, ready)
	if err != nil {
		return nil, fmt.Errorf("load PktMon source: %w", err)
	}
	return src, nil
}

// retinaDatapath is none: Retina's Windows series come from HNS and VFP,
// which the source offers as retina.HNS (see newRetinaNode).
func retinaDatapath(Source) []retina.Option { return nil }
