// Package flowmetrics counts flows into Hubble's flow metrics — the
// hubble_* series Cilium's --hubble-metrics handlers expose, with their
// names, labels, help texts and option syntax — so that dashboards and
// alerts written for Hubble work unchanged.
//
// The agent's pipeline hands every record to Metrics.Observe, which copies
// it into a bounded single-producer queue and never blocks: a full queue
// drops the record and counts it. One goroutine (Metrics.Run) drains the
// queue and runs the handlers on the compact record through a
// flowview.Flow, so counting a flow builds no flow.Flow and, once its
// series exists, allocates nothing: a series is found by a key its label
// values are appended to in a reused buffer.
//
// The handlers are those a Config enables: ParseSpec reads one from
// --metrics, ParseConfig from a file in the shape of Cilium's dynamic
// metrics config. Apply replaces them while flows are counted and scraped,
// under the lock the counting holds, so a collector reads the series of
// one Config's handlers or the other's, never a mix.
//
// Unlike Hubble's, the series are bounded: a metric holds at most a limit
// of series (what the limit refuses is counted), and the series of a
// metric whose labels name endpoints or DNS queries expire a TTL after
// their last flow, so deleted pods and one-off addresses do not stay
// forever. Series are read at scrape time by a collector, node_exporter
// style; Collector reports the package's own health.
package flowmetrics
