package kube

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/foveanet/fovea/agent/endpoints"
)

// workloadOf resolves a pod's top-level controller from its owner
// reference without watching ReplicaSets and Jobs: a ReplicaSet named
// "<deployment>-<pod-template-hash>" belongs to that Deployment, and a Job
// named "<cronjob>-<schedule time>" to that CronJob, the names their
// controllers give them.
func workloadOf(pod *corev1.Pod) endpoints.Workload {
	owner := metav1.GetControllerOfNoCopy(pod)
	if owner == nil {
		return endpoints.Workload{}
	}
	switch owner.Kind {
	case "ReplicaSet":
		if hash := pod.Labels["pod-template-hash"]; hash != "" {
			if name, ok := strings.CutSuffix(owner.Name, "-"+hash); ok && name != "" {
				return endpoints.Workload{Kind: "Deployment", Name: name}
			}
		}
	case "Job":
		if i := strings.LastIndexByte(owner.Name, '-'); i > 0 && isDigits(owner.Name[i+1:]) && len(owner.Name)-i-1 >= 8 {
			return endpoints.Workload{Kind: "CronJob", Name: owner.Name[:i]}
		}
	}
	return endpoints.Workload{Kind: owner.Kind, Name: owner.Name}
}

func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
