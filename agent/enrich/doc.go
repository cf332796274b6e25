// Package enrich owns the stage between a source and the ring that gives a
// record its meaning: it sets the intern references a flow's endpoints and
// DNS names are built from. Until Kubernetes metadata is available
// (issue #4) it knows the reserved identities only (the node's own addresses
// are the host, everything else is the world), plus the names DNS answers
// gave each address.
package enrich
