// Package filters compiles Hubble flow filters (flow.FlowFilter white- and
// blacklists) into predicates over agent events, with the semantics of
// Hubble v1.20.2: an event passes if it matches any whitelist filter (or
// there is none) and no blacklist filter; the fields set in one filter are
// ANDed and the values of one field ORed.
//
// Fields the compact record, the intern tables or the node hold (addresses,
// ports, protocol, TCP flags, verdict, event type, endpoints, names,
// interface, node) are matched without building the event's full flow and
// without allocating; answers that depend only on an interned value (label
// selectors, FQDN patterns) or on the node are cached. The other fields
// (HTTP, DNS query, UUID, trace IDs, traffic direction, encryption, CEL
// expressions) are matched on the event's lazily built flow.Flow.
//
// Build bounds the work one request can cost (see MaxFilters and the other
// limits in limits.go), where Hubble has no limits: the number of filters
// and of values per field, the total size of regexps, of their compiled
// programs and of label selectors, the number and size of CEL expressions,
// and the cost of evaluating a CEL expression on one flow. Exceeding a
// build-time limit is an error naming the field.
//
// Each file holds one family of fields; its builder returns one predicate
// per set field and an error naming the field for bad input.
package filters
