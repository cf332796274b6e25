// Package policy tells which network policy allowed or denied a connection,
// on any CNI. It compiles Kubernetes NetworkPolicies (and the cluster-wide
// ClusterNetworkPolicies of sigs.k8s.io/network-policy-api) into a Snapshot
// that evaluates a connection direction by the Kubernetes semantics and
// names the policies that decided it; a Stage between the source and the
// ring evaluates the first packet of each connection direction (cached per
// endpoint pair, port and protocol), writes Hubble's policy verdict events,
// and ties the verdict to what the kernel did: a denied connection the
// kernel dropped is POLICY_DENIED, one it delivered is AUDIT (the CNI does
// not enforce that policy).
//
// Fovea evaluates policies; it enforces nothing.
package policy
