package agent

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/bpf"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// oneShot emits its records once, then waits for the end.
type oneShot struct {
	recs   []record.Record
	closed bool
}

func (s *oneShot) Run(ctx context.Context, emit func(*record.Record)) error {
	for i := range s.recs {
		emit(&s.recs[i])
	}
	<-ctx.Done()
	return nil
}

func (s *oneShot) Close() error                    { s.closed = true; return nil }
func (s *oneShot) Collector() prometheus.Collector { return prometheus.NewRegistry() }

// TestRunWithSource: an agent on a source given to RunWithSource serves
// what the source emits, through the whole pipeline, and closes the source.
func TestRunWithSource(t *testing.T) {
	var cfg Config
	cfg.Flags(pflag.NewFlagSet("t", pflag.ContinueOnError)) // the defaults
	dir := t.TempDir()
	cfg.NodeName, cfg.Server.SocketPath, cfg.Server.ListenAddress, cfg.MetricsAddress = "node1", filepath.Join(dir, "h.sock"), "", ""
	cfg.Capture.Dir = filepath.Join(dir, "captures")
	src := &oneShot{}
	for i := range 3 {
		r := record.Record{Time: time.Now().UnixNano(), Kind: record.KindTrace, Proto: record.ProtoUDP, SrcPort: uint16(1000 + i), DstPort: 53}
		a, b := netip.MustParseAddr("10.9.0.1").As4(), netip.MustParseAddr("10.9.0.2").As4()
		copy(r.Src[:], a[:])
		copy(r.Dst[:], b[:])
		src.recs = append(src.recs, r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	given := func(_ Config, _ *slog.Logger, _ *intern.Tables, _ bpf.L7Parser, _ *observer.AgentEvents, ready func()) (Source, error) {
		ready()
		return src, nil
	}
	go func() { done <- RunWithSource(ctx, cfg, slog.New(slog.DiscardHandler), given) }()
	conn, err := grpc.NewClient("unix://"+cfg.Server.SocketPath, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := observerpb.NewObserverClient(conn)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := client.ServerStatus(context.Background(), &observerpb.ServerStatusRequest{}, grpc.WaitForReady(true))
		if err == nil && st.GetNumFlows() == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ServerStatus %v, %v: want the source's 3 flows", st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !src.closed {
		t.Error("Run did not close the source")
	}
}
