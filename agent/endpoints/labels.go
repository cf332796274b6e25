package endpoints

import "strings"

// Cilium's default identity label filter (pkg/labelsfilter), as key
// prefixes. A key is identity-relevant unless an ignore prefix matches it
// and no longer include prefix does; the longest match wins, as in Cilium.
var (
	includePrefixes = []string{
		LabelNamespace,
		LabelNamespaceMeta,
		"app.kubernetes.io",
		LabelCluster,
		LabelServiceAccount,
	}
	ignorePrefixes = []string{
		"io.kubernetes",
		"kubernetes.io",
		"statefulset.kubernetes.io/pod-name",
		"apps.kubernetes.io/pod-index",
		"batch.kubernetes.io/job-completion-index",
		"batch.kubernetes.io/controller-uid",
		"k8s.io",
		"pod-template-generation",
		"pod-template-hash",
		"controller-revision-hash",
		"controller-uid",
		"annotation",
		"etcd_node",
		"topology.kubernetes.io",
	}
)

// betaSuffix is Cilium's `.*beta\.kubernetes\.io` ignore rule: any key
// containing it is ignored up to its last occurrence.
const betaSuffix = "beta.kubernetes.io"

// IdentityRelevant reports whether a pod label key takes part in the pod's
// security identity under Cilium's default label filter; Hubble shows only
// those on flow endpoints.
func IdentityRelevant(key string) bool {
	included, ignored := 0, 0
	for _, p := range includePrefixes {
		if strings.HasPrefix(key, p) && len(p) > included {
			included = len(p)
		}
	}
	for _, p := range ignorePrefixes {
		if strings.HasPrefix(key, p) && (ignored == 0 || len(p) < ignored) {
			ignored = len(p)
		}
	}
	if i := strings.LastIndex(key, betaSuffix); i >= 0 {
		if n := i + len(betaSuffix); ignored == 0 || n < ignored {
			ignored = n
		}
	}
	return ignored == 0 || included > ignored
}
