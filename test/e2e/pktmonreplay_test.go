package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/agent"
	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/bpf"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/windows"
)

// windowsTestdata holds the PktMon, HNS and VFP fixtures the Windows
// source's unit tests decode (written by windows/internal/genfixtures).
const windowsTestdata = "../../windows/testdata"

// pktmonReplay is the Windows source with its ETW session replaced by the
// fixture stream: the same decoder, HNS endpoints and Retina counters,
// emitting into the agent's pipeline as windows.Source does.
type pktmonReplay struct {
	stream  []byte
	decoder *windows.Decoder
	ready   func()
	ports   []windows.PortCounters
}

func (r *pktmonReplay) Run(ctx context.Context, emit func(*record.Record)) error {
	r.ready()
	handle := r.decoder.Handler(emit)
	if err := windows.ReadStream(r.stream, func(ev windows.Event) error { handle(ev); return nil }); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

func (r *pktmonReplay) Close() error                    { return nil }
func (r *pktmonReplay) Collector() prometheus.Collector { return r.decoder.Collector() }

func (r *pktmonReplay) PortCounters() ([]windows.PortCounters, error) { return r.ports, nil }

func readWindowsFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(windowsTestdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newPktmonReplay builds the replay source from the fixtures.
func newPktmonReplay(t *testing.T) agent.SourceFunc {
	var endpoints, stats []json.RawMessage
	if err := json.Unmarshal(readWindowsFixture(t, "hns_endpoints.json"), &endpoints); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(readWindowsFixture(t, "hns_endpointstats.json"), &stats); err != nil {
		t.Fatal(err)
	}
	set := new(windows.Endpoints)
	var eps []windows.Endpoint
	for _, raw := range endpoints {
		ep, err := windows.ParseEndpoint(raw)
		if err != nil {
			t.Fatal(err)
		}
		eps = append(eps, ep)
	}
	set.Set(eps)
	vfp, err := windows.ParseVFPPortCounters(string(readWindowsFixture(t, "vfp_port_counters.txt")))
	if err != nil {
		t.Fatal(err)
	}
	var ports []windows.PortCounters
	for i, raw := range stats {
		st, err := windows.ParseEndpointStats(raw)
		if err != nil {
			t.Fatal(err)
		}
		pc := windows.PortCounters{Endpoint: st}
		if i == 0 {
			pc.VFP = &vfp
		}
		ports = append(ports, pc)
	}
	comps, err := windows.ParseComponentList(readWindowsFixture(t, "pktmon_list.json"))
	if err != nil {
		t.Fatal(err)
	}
	components := new(windows.Components)
	components.Set(comps)
	stream := readWindowsFixture(t, "pktmon.etw")
	return func(_ agent.Config, _ *slog.Logger, tables *intern.Tables, _ bpf.L7Parser, _ *observer.AgentEvents, ready func()) (agent.Source, error) {
		return &pktmonReplay{stream: stream, decoder: windows.NewDecoder(tables, set, components), ready: ready, ports: ports}, nil
	}
}

// freePort returns a loopback address whose port was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func scrapeText(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatal(errors.Join(err, fmt.Errorf("status %s", resp.Status)))
	}
	return string(b)
}
