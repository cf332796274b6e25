// Package demo owns `fovea demo`: it builds a network-namespace cluster, runs
// one real agent per node, keeps traffic flowing between the pods and, if
// given a hubble CLI, shows the live flows with `hubble observe --follow`,
// the client users will use. Everything it creates is removed when it ends,
// and leftovers of a crashed run are removed when it starts.
package demo
