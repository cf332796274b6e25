// Package inventory reads the endpoints of hosts without Kubernetes (and of
// the demo) from a YAML file: pods with their addresses, labels and
// workloads, and services with their cluster IPs and ports. The file is
// parsed strictly, so a typo is an error naming its entry rather than a
// silently unlabelled pod, and it is re-read when it changes; a bad reload
// keeps the last good state.
package inventory
