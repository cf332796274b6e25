// Package enrich owns the stage between a source and the ring that gives a
// record its meaning: it sets the intern references a flow's endpoints,
// services and DNS names are built from. Endpoints labels pods and services
// from the current endpoints index (an inventory file or the Kubernetes
// API); Reserved labels what is left with reserved identities (the node's
// own addresses are the host, everything else is the world); Names adds
// the names DNS answers gave each address.
package enrich
