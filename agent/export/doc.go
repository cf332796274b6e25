// Package export writes the agent's flows out of the ring for keeping:
// Hubble-compatible flow logs (one observer.ExportEvent in protojson a
// line, rotated and compressed by lumberjack) and, later, OTLP logs.
//
// Each exporter is a ring follower of its own: a goroutine that reads the
// ring behind the writer with a ringbuffer.Reader, builds only the flows
// its filters pass (flowview.Flow, api/filters, api/fieldmask), and hands
// them to a Sink. The writer never waits for an exporter. An exporter that
// falls more than a ring behind loses what was overwritten; the reader
// counts it exactly, the log gets a LostEvent{HUBBLE_RING_BUFFER} at most
// once a second, as a GetFlows stream would, and Status counts it by
// exporter and reason, logs it and publishes an agent event. A sink that
// fails (a full disk) drops and counts the same way, and says when it
// recovers.
//
// Manager runs the exporters by name: the static one the flags describe
// and those a flow-log configuration file adds, changes and removes while
// the agent runs.
package export
