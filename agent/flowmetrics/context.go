package flowmetrics

import (
	"fmt"
	"slices"
	"strings"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
)

// The options every handler takes, as Cilium names them (matched without
// regard to case, as Cilium does).
const (
	optSourceContext             = "sourceContext"
	optSourceEgressContext       = "sourceEgressContext"
	optSourceIngressContext      = "sourceIngressContext"
	optDestinationContext        = "destinationContext"
	optDestinationEgressContext  = "destinationEgressContext"
	optDestinationIngressContext = "destinationIngressContext"
	optLabelsContext             = "labelsContext"
)

var contextOptionNames = []string{
	optSourceContext, optSourceEgressContext, optSourceIngressContext,
	optDestinationContext, optDestinationEgressContext, optDestinationIngressContext,
	optLabelsContext,
}

// contextID is what a source or destination label shows of its endpoint.
type contextID uint8

const (
	ctxIdentity contextID = iota
	ctxNamespace
	ctxPod
	ctxPodName
	ctxDNS
	ctxIP
	ctxReservedIdentity
	ctxWorkload
	ctxWorkloadName
	ctxApp
)

// contextIDNames are the identifiers of sourceContext and the others, by
// contextID.
var contextIDNames = []string{
	ctxIdentity:         "identity",
	ctxNamespace:        "namespace",
	ctxPod:              "pod",
	ctxPodName:          "pod-name",
	ctxDNS:              "dns",
	ctxIP:               "ip",
	ctxReservedIdentity: "reserved-identity",
	ctxWorkload:         "workload",
	ctxWorkloadName:     "workload-name",
	ctxApp:              "app",
}

// contextLabel is one label labelsContext may add.
type contextLabel uint8

const (
	lblSourceIP contextLabel = iota
	lblSourcePod
	lblSourceNamespace
	lblSourceWorkload
	lblSourceWorkloadKind
	lblSourceApp
	lblDestinationIP
	lblDestinationPod
	lblDestinationNamespace
	lblDestinationWorkload
	lblDestinationWorkloadKind
	lblDestinationApp
	lblTrafficDirection
)

// contextLabelNames are labelsContext's labels in the order Cilium adds them
// whatever the order given.
var contextLabelNames = []string{
	lblSourceIP:                "source_ip",
	lblSourcePod:               "source_pod",
	lblSourceNamespace:         "source_namespace",
	lblSourceWorkload:          "source_workload",
	lblSourceWorkloadKind:      "source_workload_kind",
	lblSourceApp:               "source_app",
	lblDestinationIP:           "destination_ip",
	lblDestinationPod:          "destination_pod",
	lblDestinationNamespace:    "destination_namespace",
	lblDestinationWorkload:     "destination_workload",
	lblDestinationWorkloadKind: "destination_workload_kind",
	lblDestinationApp:          "destination_app",
	lblTrafficDirection:        "traffic_direction",
}

// contextOptions are a handler's compiled context options: the labels they
// add after the handler's own, and how each gets its value.
type contextOptions struct {
	labels []contextLabel // labelsContext, in contextLabelNames order
	// The identifiers tried in turn, the first non-empty value winning;
	// the egress and ingress lists, when given, replace the plain one for
	// flows of that direction.
	src, srcEgress, srcIngress []contextID
	dst, dstEgress, dstIngress []contextID
	hasSrc, hasDst             bool
}

// isContextOption reports whether name is one of the options every handler
// takes.
func isContextOption(name string) bool {
	return slices.ContainsFunc(contextOptionNames, func(o string) bool { return strings.EqualFold(o, name) })
}

// set compiles one context option into o.
func (o *contextOptions) set(opt ContextOption) error {
	if strings.EqualFold(opt.Name, optLabelsContext) {
		return o.setLabels(opt.Values)
	}
	ids, err := parseContextIDs(opt.Values)
	if err != nil {
		return err
	}
	switch strings.ToLower(opt.Name) {
	case strings.ToLower(optSourceContext):
		o.src = ids
	case strings.ToLower(optSourceEgressContext):
		o.srcEgress = ids
	case strings.ToLower(optSourceIngressContext):
		o.srcIngress = ids
	case strings.ToLower(optDestinationContext):
		o.dst = ids
	case strings.ToLower(optDestinationEgressContext):
		o.dstEgress = ids
	case strings.ToLower(optDestinationIngressContext):
		o.dstIngress = ids
	}
	o.hasSrc = len(o.src)+len(o.srcEgress)+len(o.srcIngress) > 0
	o.hasDst = len(o.dst)+len(o.dstEgress)+len(o.dstIngress) > 0
	return nil
}

func parseContextIDs(values []string) ([]contextID, error) {
	if len(values) == 0 {
		return nil, fmt.Errorf("no context given (one or more of %s, separated by |)", strings.Join(contextIDNames, ", "))
	}
	ids := make([]contextID, 0, len(values))
	for _, v := range values {
		i := slices.IndexFunc(contextIDNames, func(n string) bool { return strings.EqualFold(n, v) })
		if i < 0 {
			return nil, fmt.Errorf("unknown context %q (known: %s)", v, strings.Join(contextIDNames, ", "))
		}
		ids = append(ids, contextID(i))
	}
	return ids, nil
}

func (o *contextOptions) setLabels(values []string) error {
	if len(values) == 0 {
		return fmt.Errorf("no label given (one or more of %s, separated by commas)", strings.Join(contextLabelNames, ", "))
	}
	want := make([]bool, len(contextLabelNames))
	for _, v := range values {
		i := slices.Index(contextLabelNames, v)
		if i < 0 {
			return fmt.Errorf("unknown label %q (known: %s)", v, strings.Join(contextLabelNames, ", "))
		}
		want[i] = true
	}
	o.labels = o.labels[:0]
	for i, w := range want {
		if w {
			o.labels = append(o.labels, contextLabel(i))
		}
	}
	return nil
}

// names are the label names o adds: labelsContext's, then source, then
// destination, as Cilium orders them.
func (o *contextOptions) names() []string {
	var names []string
	for _, l := range o.labels {
		names = append(names, contextLabelNames[l])
	}
	if o.hasSrc {
		names = append(names, "source")
	}
	if o.hasDst {
		names = append(names, "destination")
	}
	return names
}

// namesEndpoints reports whether o's labels name endpoints, addresses or
// workloads: values that come and go with the cluster, whose series must
// expire.
func (o *contextOptions) namesEndpoints() bool {
	return o.hasSrc || o.hasDst || slices.ContainsFunc(o.labels, func(l contextLabel) bool { return l != lblTrafficDirection })
}

// appendValues appends the values of o's labels for ev to key.
func (o *contextOptions) appendValues(key []byte, ev *event) []byte {
	return o.appendValuesOf(key, ev, false)
}

// appendInvertedValues appends the values of o's labels for ev with its
// source and destination swapped, as Hubble's httpV2 labels a response by
// its request's ends: labelsContext reads the flow's other end, and the
// source and destination labels trade the values their contexts give.
func (o *contextOptions) appendInvertedValues(key []byte, ev *event) []byte {
	return o.appendValuesOf(key, ev, true)
}

func (o *contextOptions) appendValuesOf(key []byte, ev *event, invert bool) []byte {
	e, dir := &ev.Flow, ev.dir
	for _, l := range o.labels {
		if invert && l != lblTrafficDirection {
			l = (l + lblDestinationIP) % (2 * lblDestinationIP)
		}
		at := len(key)
		key = appendLabelValue(beginValue(key), e, l, dir)
		key = endValue(key, at)
	}
	src, dst := pick(o.src, o.srcEgress, o.srcIngress, dir), pick(o.dst, o.dstEgress, o.dstIngress, dir)
	switch {
	case !invert:
		if o.hasSrc {
			key = appendFirst(key, e, src, true)
		}
		if o.hasDst {
			key = appendFirst(key, e, dst, false)
		}
	default:
		if o.hasSrc {
			key = appendFirst(key, e, dst, false)
		}
		if o.hasDst {
			key = appendFirst(key, e, src, true)
		}
	}
	return key
}

// pick is the identifier list that applies to a flow of direction dir.
func pick(both, egress, ingress []contextID, dir flowpb.TrafficDirection) []contextID {
	switch {
	case ingress != nil && dir == flowpb.TrafficDirection_INGRESS:
		return ingress
	case egress != nil && dir == flowpb.TrafficDirection_EGRESS:
		return egress
	}
	return both
}

// appendFirst appends the first non-empty value of ids for the source or
// destination of e, or an empty value.
func appendFirst(key []byte, e *flowview.Flow, ids []contextID, source bool) []byte {
	at := len(key)
	key = beginValue(key)
	for _, id := range ids {
		key = appendContext(key, e, id, source)
		if len(key) > at+valueHeader {
			break
		}
	}
	return endValue(key, at)
}

// appendContext appends what id shows of the source or destination of e.
func appendContext(key []byte, e *flowview.Flow, id contextID, source bool) []byte {
	ep, names := e.DstEndpoint(), e.DstNames()
	if source {
		ep, names = e.SrcEndpoint(), e.SrcNames()
	}
	switch id {
	case ctxIdentity:
		return appendJoined(key, ep.GetLabels())
	case ctxNamespace:
		return append(key, ep.GetNamespace()...)
	case ctxPod:
		if ns := ep.GetNamespace(); ns != "" {
			key = append(append(key, ns...), '/')
		}
		return append(key, ep.GetPodName()...)
	case ctxPodName:
		return append(key, ep.GetPodName()...)
	case ctxDNS:
		return appendJoined(key, names)
	case ctxIP:
		if source {
			return e.Rec.SrcAddr().AppendTo(key)
		}
		return e.Rec.DstAddr().AppendTo(key)
	case ctxReservedIdentity:
		return append(key, reservedIdentity(ep.GetLabels())...)
	case ctxWorkload:
		name := workloadName(ep)
		if ns := ep.GetNamespace(); name != "" && ns != "" {
			key = append(append(key, ns...), '/')
		}
		return append(key, name...)
	case ctxWorkloadName:
		return append(key, workloadName(ep)...)
	case ctxApp:
		return append(key, appName(ep.GetLabels())...)
	}
	return key
}

// appendLabelValue appends the value of labelsContext's label l for e.
func appendLabelValue(key []byte, e *flowview.Flow, l contextLabel, dir flowpb.TrafficDirection) []byte {
	src, dst := e.SrcEndpoint(), e.DstEndpoint()
	switch l {
	case lblSourceIP:
		return e.Rec.SrcAddr().AppendTo(key)
	case lblSourcePod:
		return append(key, src.GetPodName()...)
	case lblSourceNamespace:
		return append(key, src.GetNamespace()...)
	case lblSourceWorkload:
		return append(key, workloadName(src)...)
	case lblSourceWorkloadKind:
		return append(key, workloadKind(src)...)
	case lblSourceApp:
		return append(key, appName(src.GetLabels())...)
	case lblDestinationIP:
		return e.Rec.DstAddr().AppendTo(key)
	case lblDestinationPod:
		return append(key, dst.GetPodName()...)
	case lblDestinationNamespace:
		return append(key, dst.GetNamespace()...)
	case lblDestinationWorkload:
		return append(key, workloadName(dst)...)
	case lblDestinationWorkloadKind:
		return append(key, workloadKind(dst)...)
	case lblDestinationApp:
		return append(key, appName(dst.GetLabels())...)
	case lblTrafficDirection:
		return append(key, directionNames[dir]...)
	}
	return key
}

// directionNames are traffic_direction's values.
var directionNames = map[flowpb.TrafficDirection]string{
	flowpb.TrafficDirection_TRAFFIC_DIRECTION_UNKNOWN: "unknown",
	flowpb.TrafficDirection_INGRESS:                   "ingress",
	flowpb.TrafficDirection_EGRESS:                    "egress",
}

func appendJoined(key []byte, list []string) []byte {
	for i, s := range list {
		if i > 0 {
			key = append(key, ',')
		}
		key = append(key, s...)
	}
	return key
}

func workloadName(ep *flowpb.Endpoint) string {
	if w := ep.GetWorkloads(); len(w) > 0 {
		return w[0].GetName()
	}
	return ""
}

func workloadKind(ep *flowpb.Endpoint) string {
	if w := ep.GetWorkloads(); len(w) > 0 {
		return w[0].GetKind()
	}
	return ""
}

const (
	reservedPrefix      = "reserved:"
	reservedKubeAPI     = "reserved:kube-apiserver"
	reservedWorld       = "reserved:world"
	reservedWorldIPv4   = "reserved:world-ipv4"
	reservedWorldIPv6   = "reserved:world-ipv6"
	appLabelRecommended = "k8s:app.kubernetes.io/name="
	appLabelLegacy      = "k8s:k8s-app="
	appLabelPlain       = "k8s:app="
)

// reservedIdentity is the endpoint's kube-apiserver label if it has one,
// else its first reserved label, as Cilium's reserved-identity context.
func reservedIdentity(labels []string) string {
	if slices.Contains(labels, reservedKubeAPI) {
		return reservedKubeAPI
	}
	for _, l := range labels {
		if strings.HasPrefix(l, reservedPrefix) {
			return l
		}
	}
	return ""
}

// appName is the value of the first of the endpoint's labels that is an app
// label (app.kubernetes.io/name, k8s-app or app) and has a value.
func appName(labels []string) string {
	for _, l := range labels {
		for _, prefix := range [...]string{appLabelRecommended, appLabelLegacy, appLabelPlain} {
			if v, ok := strings.CutPrefix(l, prefix); ok && v != "" {
				return v
			}
		}
	}
	return ""
}

// isWorld reports whether the endpoint is outside the cluster, as the
// flows-to-world handler decides it: by its reserved world labels.
func isWorld(labels []string) bool {
	for _, l := range labels {
		switch l {
		case reservedWorld, reservedWorldIPv4, reservedWorldIPv6:
			return true
		}
	}
	return false
}
