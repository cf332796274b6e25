// Package observer owns the agent's implementation of the Hubble Observer
// gRPC service: it serves flows from the agent's ring buffer (GetFlows),
// reports the agent's status and node, and serves namespaces and agent
// events from injected sources. It also holds the small in-memory sources
// an agent feeds: NamespaceTracker and AgentEvents.
package observer
