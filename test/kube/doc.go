// Package kube runs a real etcd and kube-apiserver for tests: a throwaway
// control plane (no controller manager, no scheduler, no kubelet) that tests
// fill with the Nodes, Pods and Services they need, then point agents at
// with a kubeconfig, either the admin one or one limited by RBAC to the
// ClusterRole the Helm chart ships. The binaries come from `make
// kube-tools` (ETCD_BIN and KUBE_APISERVER_BIN).
package kube
