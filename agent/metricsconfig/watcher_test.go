package metricsconfig

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/foveanet/fovea/agent/flowmetrics"
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	// Write then rename, as editors and ConfigMap mounts do.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a log the watcher writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// events records what the watcher notifies.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) notify(event, detail string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, event+": "+detail)
}

func (e *events) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.list, "\n")
}

// TestLiveReload runs the agent's way: a pipeline goroutine observing
// flows, the handlers' goroutine counting them, a scraper, and the watcher
// applying each change of the file. A handler added appears in the scrape,
// one removed disappears, changed options take effect, and a broken file
// keeps the handlers and is logged, published and counted.
func TestLiveReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.yaml")
	writeFile(t, path, "metrics: [{name: flow}]")
	node := flowview.NewNode("node-1", "default", "test", nil, intern.NewTables())
	m, err := flowmetrics.New(flowmetrics.Config{}, node)
	if err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	var ev events
	w, err := New(path, m, WithInterval(5*time.Millisecond), WithNotify(ev.notify), WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m.FlowCollector(), w.Collector())

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Go(func() { _ = m.Run(ctx) })
	wg.Go(func() { _ = w.Run(ctx) })
	// The pipeline: SYNs from 10.0.0.1, all along.
	wg.Go(func() {
		r := record.Record{Kind: record.KindTrace, Proto: record.ProtoTCP, SrcPort: 40000, DstPort: 80, TCPFlags: record.TCPSyn,
			Verdict: uint8(flowpb.Verdict_FORWARDED), ObsPoint: uint8(flowpb.TraceObservationPoint_FROM_ENDPOINT)}
		r.SetAddrs(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"))
		r.SetReply(false)
		for ctx.Err() == nil {
			m.Observe(&r)
			time.Sleep(100 * time.Microsecond)
		}
	})
	// Scrapes all along, as Prometheus's would come.
	wg.Go(func() {
		for ctx.Err() == nil {
			if _, err := reg.Gather(); err != nil {
				t.Errorf("gather: %v", err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	})

	const (
		flows = `hubble_flows_processed_total{protocol="TCP",subtype="from-endpoint",type="Trace",verdict="FORWARDED"}`
		syns  = `hubble_tcp_flags_total{family="IPv4",flag="SYN"}`
	)
	waitScrape(t, reg, "the flow handler counting", flows)
	waitScrape(t, reg, "the first load counted", "metrics_config_loads_total 1", "metrics_config_last_reload_successful 1", "metrics_config_errors_total 0")

	// A handler added: it appears, and the unchanged one keeps its count.
	before := value(t, reg, flows)
	writeFile(t, path, "metrics: [{name: flow}, {name: tcp}]")
	waitScrape(t, reg, "the tcp handler added", syns, "metrics_config_loads_total 2")
	if after := value(t, reg, flows); after < before {
		t.Errorf("the flow handler restarted on a reload that kept it: %v, then %v", before, after)
	}

	// A handler removed: its series leave the scrape.
	writeFile(t, path, "metrics: [{name: tcp}]")
	waitScrape(t, reg, "the flow handler removed", "metrics_config_loads_total 3")
	if got := scrapeText(t, reg); strings.Contains(got, "hubble_flows_processed_total") {
		t.Fatalf("the removed handler's series are still scraped:\n%s", got)
	}

	// Options changed: the labels follow.
	writeFile(t, path, "metrics: [{name: tcp, contextOptions: [{name: sourceContext, values: [ip]}]}]")
	waitScrape(t, reg, "the source label", `hubble_tcp_flags_total{family="IPv4",flag="SYN",source="10.0.0.1"}`)
	if got := scrapeText(t, reg); strings.Contains(got, syns) {
		t.Fatalf("the series without the source label are still scraped:\n%s", got)
	}

	// Broken files: each is refused once, and the handlers stay as they were.
	for i, broken := range []struct{ yaml, why string }{
		{"metrics: [{name: tcp}, {name: kafka}]", `metric \"kafka\": unknown handler`},
		{"metrics: [{name: tcp", "parse metrics config: yaml"},
		{"metrics: [{name: tcp, includeFilters: [{source_ip: [10.0.0.300]}]}]", "metric tcp: build filters"},
	} {
		writeFile(t, path, broken.yaml)
		waitScrape(t, reg, "the error counted", "metrics_config_errors_total "+string(rune('1'+i)), "metrics_config_last_reload_successful 0")
		if logged := log.String(); !strings.Contains(logged, broken.why) {
			t.Errorf("the log does not say %q:\n%s", broken.why, logged)
		}
		if !strings.Contains(ev.String(), "metrics_config_rejected: ") {
			t.Errorf("no agent event for the refused file:\n%s", ev.String())
		}
		n := value(t, reg, `hubble_tcp_flags_total{family="IPv4",flag="SYN",source="10.0.0.1"}`)
		waitScrape(t, reg, "counting on", `hubble_tcp_flags_total{family="IPv4",flag="SYN",source="10.0.0.1"}`)
		eventually(t, "the kept handler to count on", func() bool {
			return value(t, reg, `hubble_tcp_flags_total{family="IPv4",flag="SYN",source="10.0.0.1"}`) > n
		})
	}
	// Reported once, not at every read.
	time.Sleep(50 * time.Millisecond)
	if got := scrapeText(t, reg); !strings.Contains(got, "metrics_config_errors_total 3\n") {
		t.Errorf("a broken file counted more than once:\n%s", got)
	}

	// A missing file is an error, once; the file back recovers.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitScrape(t, reg, "the missing file", "metrics_config_errors_total 4")
	writeFile(t, path, "metrics: [{name: flow}]")
	waitScrape(t, reg, "recovery", flows, "metrics_config_last_reload_successful 1")
	if !strings.Contains(ev.String(), "metrics_config_reloaded: metrics: flow") {
		t.Errorf("no agent event for the reload:\n%s", ev.String())
	}
}

func TestNewRefusesBadFile(t *testing.T) {
	dir := t.TempDir()
	m, err := flowmetrics.New(flowmetrics.Config{}, flowview.NewNode("n", "c", "v", nil, intern.NewTables()))
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "metrics: [{name: drop, contextOptions: [{name: sourceContext, values: [pods]}]}]")
	if _, err := New(bad, m); err == nil || !strings.Contains(err.Error(), `apply metrics config: metric drop: option sourceContext: unknown context "pods"`) {
		t.Errorf("New with a bad file: %v", err)
	}
	if _, err := New(filepath.Join(dir, "missing.yaml"), m); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("New with a missing file: %v", err)
	}
}

// waitScrape waits until a scrape holds every line prefix of want.
func waitScrape(t *testing.T, g prometheus.Gatherer, what string, want ...string) {
	t.Helper()
	var got string
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = scrapeText(t, g)
		missing := ""
		for _, w := range want {
			if !strings.Contains(got, "\n"+w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: the scrape lacks %s:\n%s", what, missing, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// value is the value of the sample series names, 0 if there is none.
func value(t *testing.T, g prometheus.Gatherer, series string) float64 {
	t.Helper()
	for line := range strings.SplitSeq(scrapeText(t, g), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

func scrapeText(t *testing.T, g prometheus.Gatherer) string {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("\n")
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}
