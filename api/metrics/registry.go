package metrics

import (
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Namespace prefixes every series Fovea defines; only Registry writes it.
const Namespace = "fovea"

// Registry holds the series an agent or a relay exposes.
type Registry struct {
	reg *prometheus.Registry
	// registered are the collectors as registered, prefixed, so that Series
	// can describe the series that have no value yet.
	registered []prometheus.Collector
	// foreignCounters are counters another project named without _total.
	foreignCounters map[string]bool
	// histograms are the histograms, whose type Series cannot read from a
	// description alone.
	histograms map[string]bool
}

// DeclareHistograms names the histograms among the registered series, so
// that Series lists them as such while they have no value to gather.
func (r *Registry) DeclareHistograms(names ...string) {
	if r.histograms == nil {
		r.histograms = map[string]bool{}
	}
	for _, n := range names {
		r.histograms[n] = true
	}
}

// AllowCounterNames lets counters of these names lack _total: names
// another project gave them, which its dashboards query (Retina's
// networkobservability_forward_count).
func (r *Registry) AllowCounterNames(names ...string) {
	if r.foreignCounters == nil {
		r.foreignCounters = map[string]bool{}
	}
	for _, n := range names {
		r.foreignCounters[n] = true
	}
}

// NewRegistry returns an empty registry; Serve adds the Go runtime's and
// the process's series.
func NewRegistry() *Registry { return &Registry{reg: prometheus.NewRegistry()} }

// Register registers cs under the namespace: a series a collector names
// "ring_events" is exposed as fovea_ring_events.
func (r *Registry) Register(cs ...prometheus.Collector) error {
	return r.register(Namespace+"_", cs)
}

// RegisterSubsystem registers cs under the namespace and subsystem: the
// relay's "peers" is exposed as fovea_relay_peers.
func (r *Registry) RegisterSubsystem(subsystem string, cs ...prometheus.Collector) error {
	return r.register(Namespace+"_"+subsystem+"_", cs)
}

// RegisterUnprefixed registers cs under the names they give: series
// another project defines (Hubble's hubble_*), whose names clients,
// dashboards and alerts already use.
func (r *Registry) RegisterUnprefixed(cs ...prometheus.Collector) error {
	return r.register("", cs)
}

func (r *Registry) register(prefix string, cs []prometheus.Collector) error {
	for _, c := range cs {
		if prefix != "" {
			c = prometheus.WrapCollectorWithPrefix(prefix, c)
		}
		if err := r.reg.Register(c); err != nil {
			return fmt.Errorf("register metrics %s: %w", strings.Join(names(c), ", "), err)
		}
		r.registered = append(r.registered, c)
	}
	return nil
}

// Gather gathers every registered series, as prometheus.Gatherer.
func (r *Registry) Gather() ([]*dto.MetricFamily, error) { return r.reg.Gather() }
