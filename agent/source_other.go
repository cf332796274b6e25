//go:build !linux && !windows

package agent

import (
	"fmt"
	"log/slog"
	"runtime"

	"github.com/foveanet/fovea/agent/retina"
	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/bpf"
	"github.com/foveanet/fovea/model/intern"
)

// newSource fails where Fovea has no packet source (Linux has eBPF,
// Windows PktMon).
func newSource(Config, *slog.Logger, *intern.Tables, bpf.L7Parser, *observer.AgentEvents, func()) (Source, error) {
	return nil, fmt.Errorf("load packet source: no datapath for %s", runtime.GOOS)
}

// retinaDatapath is none: no datapath exists here yet.
func retinaDatapath(Source) []retina.Option { return nil }
