// Package kubeclient holds what the agent and the relay both need to talk to
// the Kubernetes API: a client from a kubeconfig file or the pod's service
// account, and APIHealth, which counts, logs and reports failed requests and
// the end of an outage. Informers stay with their users (agent/kube, the
// relay's node discovery), so a binary links only the ones it runs.
package kubeclient
