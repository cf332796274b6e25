// Package agent owns the per-node data path and its lifecycle: it runs a
// packet source, passes every record through the enrichers into the ring, and
// serves the ring through the Hubble API until its context ends.
package agent
