package relay

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/connectivity"
)

// Metrics counts what the relay's GetFlows streams do.
type Metrics struct {
	streams     prometheus.Gauge
	forwarded   prometheus.Counter
	forcedFull  prometheus.Counter
	forcedDrain prometheus.Counter
	callErrors  *prometheus.CounterVec
}

// NewMetrics returns the relay's metrics registered with reg, with those of
// pool's peers; a nil reg registers nothing (tests, benchmarks).
func NewMetrics(reg prometheus.Registerer, pool *Pool) (*Metrics, error) {
	forced := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fovea_relay_merge_forced_sends_total",
		Help: "Flows GetFlows sent before every node could deliver older ones, because the sort buffer was full or the flow waited the drain timeout.",
	}, []string{"reason"})
	m := &Metrics{
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fovea_relay_get_flows_streams",
			Help: "GetFlows streams being served.",
		}),
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fovea_relay_flows_forwarded_total",
			Help: "Flows (and lost-event notices) from nodes sent to GetFlows clients.",
		}),
		forcedFull:  forced.WithLabelValues("buffer_full"),
		forcedDrain: forced.WithLabelValues("drain_timeout"),
		callErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fovea_relay_node_call_errors_total",
			Help: "GetFlows calls to nodes that failed, by gRPC status code.",
		}, []string{"code"}),
	}
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{m.streams, m.forwarded, forced, m.callErrors}
	if pool != nil {
		cs = append(cs, poolCollector{pool})
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register relay metrics: %w", err)
		}
	}
	return m, nil
}

var (
	peerStatusDesc = prometheus.NewDesc("hubble_relay_pool_peer_connection_status",
		"Peers by the state of their connection, as Hubble's relay reports them (NIL_CONNECTION: cannot be dialed).",
		[]string{"status"}, nil)
	peersDesc = prometheus.NewDesc("fovea_relay_peers",
		"Peers the relay knows of.", nil, nil)
	peersConnectedDesc = prometheus.NewDesc("fovea_relay_peers_connected",
		"Peers whose connection is ready.", nil, nil)
	peerReceivedDesc = prometheus.NewDesc("fovea_relay_peer_flows_received_total",
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

// poolCollector reports the pool's peers as they are at scrape time.
type poolCollector struct{ pool *Pool }

func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- peerStatusDesc
	ch <- peersDesc
	ch <- peersConnectedDesc
	ch <- peerReceivedDesc
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	p := c.pool
	p.mu.Lock()
	states := make(map[string]int, len(peerStates))
	received := make(map[string]uint64, len(p.nodes))
	for name, n := range p.nodes {
		state := nilConnection
		if n.conn != nil {
			state = n.conn.GetState().String()
		}
		states[state]++
		received[name] = n.received.Load()
	}
	total := len(p.nodes)
	p.mu.Unlock()
	for _, s := range peerStates {
		ch <- prometheus.MustNewConstMetric(peerStatusDesc, prometheus.GaugeValue, float64(states[s]), s)
	}
	ch <- prometheus.MustNewConstMetric(peersDesc, prometheus.GaugeValue, float64(total))
	ch <- prometheus.MustNewConstMetric(peersConnectedDesc, prometheus.GaugeValue, float64(states[connectivity.Ready.String()]))
	for name, n := range received {
		ch <- prometheus.MustNewConstMetric(peerReceivedDesc, prometheus.CounterValue, float64(n), name)
	}
}
