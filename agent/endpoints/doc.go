// Package endpoints holds the Kubernetes view of flow endpoints: how a pod
// becomes a Cilium-form flow.Endpoint (labels, workloads, a numeric
// identity every agent derives alike), and the immutable IP→endpoint and
// service-frontend index the enricher reads lock-free. Sources of pods and
// services (an inventory file, Kubernetes informers) build a new Index from
// a full snapshot and swap it into a Store atomically, so a deleted pod's
// address never resolves to it once the swap is done.
package endpoints
