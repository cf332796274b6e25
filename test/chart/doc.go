// Package chart tests the Helm chart helm/fovea with the real helm and
// kubeconform: lint, renders with the default values and with each mode
// the values offer, every rendered object validated strictly against the
// schemas of the Kubernetes release the tests run, the values schema
// rejecting bad values, the values table in the chart's README, and
// installs, upgrades and uninstalls on a real kube-apiserver. Run it with
// `make chart`, which builds the tools and names them in the environment
// (HELM_BIN, KUBECONFORM_BIN, VALUESDOC_BIN, KUBE_SCHEMAS, KUBE_CRDS,
// KUBE_VERSION, FOVEA_IMAGE_REF, and test/kube's ETCD_BIN and
// KUBE_APISERVER_BIN).
package chart
