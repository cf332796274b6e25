// Package intern owns the tables that give compact records their meaning:
// endpoints, interfaces, names and other values too large or too shared to
// copy into every record. A record stores a Ref; the value behind a Ref never
// changes, so a record keeps meaning what it meant when it was written even
// after the pod it names is gone.
//
// Lookups by Ref are lock-free; interning a new value takes a mutex, which is
// rare because values repeat (a pod's endpoint is interned once, not per
// packet).
//
// Values are freed by mark and sweep (NewMarks, every Holder's MarkRefs,
// Sweep; the agent runs it periodically) once neither a record in the ring
// nor a live holder (the endpoints index, the DNS names cache, …) references
// them for two sweeps in a row. Refs are never reused: a freed Ref
// reads as the zero value (an unknown endpoint), never as another value, and
// interning its key again issues a new Ref. Storage chunks whose values are
// all freed are dropped; those left with a few values are retired: the values
// move to a small map of stragglers, so storage follows what lives, not what
// was ever interned.
package intern
