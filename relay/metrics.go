package relay

import (
	"maps"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/connectivity"

	"github.com/foveanet/fovea/api/kubeclient"
	"github.com/foveanet/fovea/api/metrics"
)

// registerMetrics registers the relay's series with reg: its own under the
// relay subsystem (fovea_relay_*), with those of its Kubernetes API health
// (nil without --kubernetes-peers), and the peer connection gauge under the
// name Hubble's relay gives it.
func registerMetrics(reg *metrics.Registry, pool *Pool, m *Metrics, health *kubeclient.APIHealth) error {
	own := []prometheus.Collector{pool.Collector(), m.Collector()}
	if health != nil {
		own = append(own, health.Collector())
	}
	if err := reg.RegisterSubsystem("relay", own...); err != nil {
		return err
	}
	return reg.RegisterUnprefixed(pool.HubbleCollector())
}

// Metrics counts what the relay's GetFlows streams do; the zero value is
// ready.
type Metrics struct {
	streams                            atomic.Int64
	forwarded, forcedFull, forcedDrain atomic.Uint64

	mu sync.Mutex
	// callErrors counts failed GetFlows calls to nodes by gRPC code.
	callErrors map[string]uint64
}

func (m *Metrics) callFailed(code string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.callErrors == nil {
		m.callErrors = map[string]uint64{}
	}
	m.callErrors[code]++
}

var (
	forcedSendsDesc = prometheus.NewDesc("merge_forced_sends_total",
		"Flows GetFlows sent before every node could deliver older ones, because the sort buffer was full or the flow waited the drain timeout.",
		[]string{"reason"}, nil)
	streamsDesc = prometheus.NewDesc("get_flows_streams",
		"GetFlows streams being served.", nil, nil)
	forwardedDesc = prometheus.NewDesc("flows_forwarded_total",
		"Flows (and lost-event notices) from nodes sent to GetFlows clients.", nil, nil)
	callErrorsDesc = prometheus.NewDesc("node_call_errors_total",
		"GetFlows calls to nodes that failed, by gRPC status code.", []string{"code"}, nil)
)

// Collector returns the streams' metrics, read at scrape time.
func (m *Metrics) Collector() prometheus.Collector { return streamsCollector{m} }

type streamsCollector struct{ m *Metrics }

func (streamsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- forcedSendsDesc
	ch <- streamsDesc
	ch <- forwardedDesc
	ch <- callErrorsDesc
}

func (c streamsCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	ch <- prometheus.MustNewConstMetric(forcedSendsDesc, prometheus.CounterValue, float64(m.forcedFull.Load()), "buffer_full")
	ch <- prometheus.MustNewConstMetric(forcedSendsDesc, prometheus.CounterValue, float64(m.forcedDrain.Load()), "drain_timeout")
	ch <- prometheus.MustNewConstMetric(streamsDesc, prometheus.GaugeValue, float64(m.streams.Load()))
	ch <- prometheus.MustNewConstMetric(forwardedDesc, prometheus.CounterValue, float64(m.forwarded.Load()))
	m.mu.Lock()
	callErrors := maps.Clone(m.callErrors)
	m.mu.Unlock()
	for code, n := range callErrors {
		ch <- prometheus.MustNewConstMetric(callErrorsDesc, prometheus.CounterValue, float64(n), code)
	}
}

var (
	peerStatusDesc = prometheus.NewDesc("hubble_relay_pool_peer_connection_status",
		"Peers by the state of their connection, as Hubble's relay reports them (NIL_CONNECTION: cannot be dialed).",
		[]string{"status"}, nil)
	peersDesc = prometheus.NewDesc("peers",
		"Peers the relay knows of.", nil, nil)
	peersConnectedDesc = prometheus.NewDesc("peers_connected",
		"Peers whose connection is ready.", nil, nil)
	peerReceivedDesc = prometheus.NewDesc("peer_flows_received_total",
		"Flows (and lost-event notices) the peer's GetFlows calls delivered since its connection was made.",
		[]string{"peer"}, nil)
)

// nilConnection is the status of peers without a connection, Hubble's name.
const nilConnection = "NIL_CONNECTION"

// peerStates are every status the peer gauge reports, zero or not.
var peerStates = []string{
	connectivity.Idle.String(), connectivity.Connecting.String(), connectivity.Ready.String(),
	connectivity.TransientFailure.String(), connectivity.Shutdown.String(), nilConnection,
}

// peerStats counts the pool's peers by connection state, and the responses
// each delivered, as they are now.
func (p *Pool) peerStats() (states map[string]int, received map[string]uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	states = make(map[string]int, len(peerStates))
	received = make(map[string]uint64, len(p.nodes))
	for name, n := range p.nodes {
		state := nilConnection
		if n.conn != nil {
			state = n.conn.GetState().String()
		}
		states[state]++
		received[name] = n.received.Load()
	}
	return states, received
}

// Collector returns the pool's metrics, read at scrape time.
func (p *Pool) Collector() prometheus.Collector { return poolCollector{p} }

type poolCollector struct{ pool *Pool }

func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- peersDesc
	ch <- peersConnectedDesc
	ch <- peerReceivedDesc
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	states, received := c.pool.peerStats()
	ch <- prometheus.MustNewConstMetric(peersDesc, prometheus.GaugeValue, float64(len(received)))
	ch <- prometheus.MustNewConstMetric(peersConnectedDesc, prometheus.GaugeValue, float64(states[connectivity.Ready.String()]))
	for name, n := range received {
		ch <- prometheus.MustNewConstMetric(peerReceivedDesc, prometheus.CounterValue, float64(n), name)
	}
}

// HubbleCollector returns the metrics Hubble's relay exposes, under their
// names there, read at scrape time.
func (p *Pool) HubbleCollector() prometheus.Collector { return peerStatusCollector{p} }

type peerStatusCollector struct{ pool *Pool }

func (peerStatusCollector) Describe(ch chan<- *prometheus.Desc) { ch <- peerStatusDesc }

func (c peerStatusCollector) Collect(ch chan<- prometheus.Metric) {
	states, _ := c.pool.peerStats()
	for _, s := range peerStates {
		ch <- prometheus.MustNewConstMetric(peerStatusDesc, prometheus.GaugeValue, float64(states[s]), s)
	}
}
