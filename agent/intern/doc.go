// Package intern owns the tables that give compact records their meaning:
// endpoints, interfaces, names and other values too large or too shared to
// copy into every record. A record stores a Ref; the value behind a Ref never
// changes, so a record keeps meaning what it meant when it was written even
// after the pod it names is gone.
//
// Lookups by Ref are lock-free; interning a new value takes a mutex, which is
// rare because values repeat (a pod's endpoint is interned once, not per
// packet). Entries are never removed yet: the tables hold what the agent has
// seen, which is bounded by the node's churn; generation-stamped sweeping
// comes with Kubernetes enrichment (issue #4).
package intern
