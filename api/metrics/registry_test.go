package metrics

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRegisterPrefixes(t *testing.T) {
	reg := NewRegistry()
	gauge := func(name string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "A gauge."})
	}
	if err := reg.Register(gauge("a")); err != nil {
		t.Fatal(err)
	}
	if err := reg.RegisterSubsystem("relay", gauge("b")); err != nil {
		t.Fatal(err)
	}
	if err := reg.RegisterUnprefixed(gauge("hubble_c")); err != nil {
		t.Fatal(err)
	}
	const want = `# HELP fovea_a A gauge.
# TYPE fovea_a gauge
fovea_a 0
# HELP fovea_relay_b A gauge.
# TYPE fovea_relay_b gauge
fovea_relay_b 0
# HELP hubble_c A gauge.
# TYPE hubble_c gauge
hubble_c 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterErrorNamesTheSeries(t *testing.T) {
	reg := NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "X."})
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	err := reg.Register(c)
	if err == nil || !strings.Contains(err.Error(), "register metrics fovea_x_total: ") {
		t.Fatalf("registering twice: %v", err)
	}
}

func TestSeries(t *testing.T) {
	reg := NewRegistry()
	if err := reg.Register(
		prometheus.NewCounterVec(prometheus.CounterOpts{Name: "errors_total", Help: "Errors \"quoted\", by code."}, []string{"code", "what"}),
		prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "peers", Help: "Peers."}, []string{"state"}),
		prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sweep_seconds", Help: "Sweeps."}),
	); err != nil {
		t.Fatal(err)
	}
	series, err := reg.Series()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range series {
		got = append(got, s.String())
	}
	// The vectors have no value: their types come from their names.
	want := []string{
		`fovea_errors_total{code,what} counter: Errors "quoted", by code.`,
		`fovea_peers{state} gauge: Peers.`,
		`fovea_sweep_seconds histogram: Sweeps.`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("series:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSeriesRejectsMisnamedCounters(t *testing.T) {
	for _, c := range []prometheus.Collector{
		prometheus.NewCounter(prometheus.CounterOpts{Name: "errors", Help: "Errors."}),
		prometheus.NewGauge(prometheus.GaugeOpts{Name: "peers_total", Help: "Peers."}),
	} {
		reg := NewRegistry()
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Series(); err == nil {
			t.Errorf("%v: no error", c.(prometheus.Metric).Desc())
		}
	}
}

func TestAllowCounterNames(t *testing.T) {
	reg := NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "other_forward_count", Help: "Another project's counter."})
	if err := reg.RegisterUnprefixed(c); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Series(); err == nil {
		t.Fatal("a counter without _total passed")
	}
	reg.AllowCounterNames("other_forward_count")
	series, err := reg.Series()
	if err != nil || len(series) != 1 || series[0].Type != "counter" {
		t.Fatalf("series %v, %v", series, err)
	}
}
