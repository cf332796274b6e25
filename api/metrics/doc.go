// Package metrics serves a Prometheus registry over HTTP at /metrics, with
// the Go runtime's and the process's collectors, for the agent and the
// relay alike.
package metrics
