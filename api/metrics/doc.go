// Package metrics is the one way Fovea's series are named, registered and
// served at /metrics, for the agent and the relay alike.
//
// Components name their series without the namespace ("ring_events", or
// Subsystem "intern" and Name "entries") and never register them: each
// exposes a Collector, preferably one that reads at scrape time the counters
// the component keeps anyway, and the wiring (agent.Run, relay.Run)
// registers them all through a Registry, which adds the "fovea_" prefix.
// Registry.Series lists what is registered, for the golden lists of series
// the agent and the relay keep in their testdata (see metricstest).
package metrics
