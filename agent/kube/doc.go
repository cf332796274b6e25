// Package kube feeds the endpoints index from the Kubernetes API: informer
// caches of Pods, Services, EndpointSlices, Nodes and Namespaces, trimmed
// to what enrichment needs (pods on other nodes harder than the local
// node's), rebuilt into a fresh endpoints.Index after each burst of
// changes, and publishes the local Node's labels for flows' node_labels.
// Until the caches have synced the index stays as it was, so early flows
// keep reserved identities rather than a partial view's guesses; when the
// API server is down, slow or failing, the caches retry every 5 to 10 s
// (client-go's default backoff reaches a minute) while the last index
// stays in use.
package kube
