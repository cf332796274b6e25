package kube

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// trim keeps only what enrichment reads, so informer memory stays
// proportional to the cluster's addresses and labels rather than to its
// pod specs: a pod keeps its name, labels, owners, node, service account,
// host-network flag, phase and addresses; every object loses its managed
// fields and annotations.
func trim(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Pod:
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: o.Name, Namespace: o.Namespace, UID: o.UID, ResourceVersion: o.ResourceVersion,
				Labels: o.Labels, OwnerReferences: o.OwnerReferences,
				CreationTimestamp: o.CreationTimestamp, DeletionTimestamp: o.DeletionTimestamp,
			},
			Spec: corev1.PodSpec{
				NodeName: o.Spec.NodeName, ServiceAccountName: o.Spec.ServiceAccountName, HostNetwork: o.Spec.HostNetwork,
			},
			Status: corev1.PodStatus{Phase: o.Status.Phase, PodIP: o.Status.PodIP, PodIPs: o.Status.PodIPs},
		}, nil
	case metav1.Object:
		o.SetManagedFields(nil)
		o.SetAnnotations(nil)
	}
	return obj, nil
}
