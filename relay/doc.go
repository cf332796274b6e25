// Package relay serves the Hubble Observer API for a whole cluster: it keeps
// one gRPC connection to every agent it learns of (from a static list or an
// agent's peer.Notify stream), fans GetFlows out to them and merges their
// streams oldest-first, telling clients which nodes contributed through
// node_status events, and aggregates ServerStatus, GetNodes and
// GetNamespaces. It serves Prometheus metrics on its peers and streams.
package relay
