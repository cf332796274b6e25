// Package metricstest compares the series registries hold with a golden
// list in testdata: the one place a reader sees every series the agent or
// the relay exposes, and a diff to review whenever one changes.
package metricstest
