// Package kube feeds the endpoints index from the Kubernetes API: shared
// informers for Pods, Services, EndpointSlices, Nodes and Namespaces,
// trimmed to what enrichment needs (pods on other nodes harder than the
// local node's), rebuilt into a fresh endpoints.Index after each burst
// of changes, and publishes the local Node's labels for flows'
// node_labels. Until the caches have synced the index stays as it was, so
// early flows keep reserved identities rather than a partial view's
// guesses; when the API server is down, slow or failing, the informers
// retry with client-go's backoff while the last index stays in use.
package kube
