// Package peer owns the Hubble Peer gRPC service: Notify tells a client
// (the hubble CLI, Hubble Relay) which nodes serve Hubble and how to reach
// them. The node set is an interface so that a cluster-aware source can
// later feed additions, deletions and updates; an agent serves just itself.
package peer
