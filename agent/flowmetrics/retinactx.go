package flowmetrics

import (
	"slices"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// Retina's context labels of the adv_* series: the remote context labels
// both ends, the local context only the selected pod's (the other end's
// labels are empty, which an exposition leaves out).
var (
	retinaSourceLabels      = []string{"source_ip", "source_namespace", "source_pod", "source_workload", "source_zone"}
	retinaDestinationLabels = []string{"destination_ip", "destination_namespace", "destination_pod", "destination_workload", "destination_zone"}
	retinaLocalLabels       = []string{"source_ip", "source_namespace", "source_pod", "source_workload",
		"destination_ip", "destination_namespace", "destination_pod", "destination_workload"}
)

// retinaContext is how the adv_* handlers select pods and label their
// series.
type retinaContext struct {
	local            bool
	include, exclude []string
	// observed, when pods are selected by annotation, reports whether a
	// pod carries it; nil otherwise.
	observed func(namespace, pod string) bool
}

// newRetinaContext is c's context; observed tells the pods that carry
// Retina's annotation, for c.Annotations.
func newRetinaContext(c RetinaConfig, observed func(namespace, pod string) bool) retinaContext {
	ctx := retinaContext{local: c.ContextMode == ContextLocal, include: c.Namespaces.Include, exclude: c.Namespaces.Exclude}
	if c.Annotations {
		ctx.observed = func(string, string) bool { return false }
		if observed != nil {
			ctx.observed = observed
		}
	}
	return ctx
}

// labels are the context's label names, after own.
func (c retinaContext) labels(own ...string) []string {
	if c.local {
		return append(own, retinaLocalLabels...)
	}
	return append(append(own, retinaSourceLabels...), retinaDestinationLabels...)
}

// selects reports whether ep is a pod the context counts.
func (c retinaContext) selects(ep *flowpb.Endpoint) bool {
	ns := ep.GetNamespace()
	if ep.GetPodName() == "" || slices.Contains(c.exclude, ns) {
		return false
	}
	if c.observed != nil {
		return slices.Contains(c.include, ns) || c.observed(ns, ep.GetPodName())
	}
	return len(c.include) == 0 || slices.Contains(c.include, ns)
}

// appendValues appends the context's values for ev, whose selected pod is
// its source (sent by the pod) or its destination.
func (c retinaContext) appendValues(k []byte, ev *event, source bool) []byte {
	if c.local {
		src, dst := source, !source
		k = appendEnd(k, ev, true, src, false)
		return appendEnd(k, ev, false, dst, false)
	}
	k = appendEnd(k, ev, true, true, true)
	return appendEnd(k, ev, false, true, true)
}

// appendEnd appends the ip, namespace, pod, workload (and with zone, zone)
// of the flow's source or destination, or as many empty values without
// filled.
func appendEnd(k []byte, ev *event, source, filled, zone bool) []byte {
	n := 4
	if zone {
		n = 5
	}
	if !filled {
		for range n {
			k = appendName(k, "")
		}
		return k
	}
	ep, addr := ev.DstEndpoint(), ev.Rec.DstAddr()
	if source {
		ep, addr = ev.SrcEndpoint(), ev.Rec.SrcAddr()
	}
	at := len(k)
	k = endValue(addr.AppendTo(beginValue(k)), at)
	k = appendValue(k, ep.GetNamespace())
	k = appendValue(k, ep.GetPodName())
	k = appendValue(k, workloadName(ep))
	if zone {
		// Fovea knows no other node's zone.
		k = appendName(k, "")
	}
	return k
}
