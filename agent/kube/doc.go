// Package kube feeds the endpoints index from the Kubernetes API: shared
// informers for Pods, Services, Nodes and Namespaces, trimmed to what
// enrichment needs, rebuilt into a fresh endpoints.Index after each burst
// of changes. Until the caches have synced the index stays as it was, so
// early flows keep reserved identities rather than a partial view's
// guesses; when the API server is down, slow or failing, the informers
// retry with client-go's backoff while the last index stays in use.
package kube
