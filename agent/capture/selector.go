package capture

import (
	"errors"
	"fmt"
	"strings"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/api/capture/capturepb"
	"github.com/foveanet/fovea/api/filters"
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// selector decides which of the node's pods a request captures: a pod
// must match every part that is set.
type selector struct {
	namespace string
	pods      labels.Selector // nil: any labels
	names     map[string]bool // "namespace/name"; nil: any name
	nodes     labels.Selector // nil: any node
	flows     []flowHalves    // nil: no flow filter
}

// flowHalves are a FlowFilter split into what it asks of a flow's source
// and of its destination; a half that asks nothing of its endpoint is nil,
// and selects no pod.
type flowHalves struct {
	src, dst filters.Func
}

// Fields of a FlowFilter that select pods, by the end of a flow they
// describe; node fields apply to both.
var (
	srcFields  = map[protoreflect.Name]bool{"source_pod": true, "source_label": true, "source_workload": true, "source_cluster_name": true}
	dstFields  = map[protoreflect.Name]bool{"destination_pod": true, "destination_label": true, "destination_workload": true, "destination_cluster_name": true}
	nodeFields = map[protoreflect.Name]bool{"node_name": true, "node_labels": true}
)

// newSelector checks s and compiles it; errors name the field, as the
// request's path to it.
func newSelector(s *capturepb.Selector) (*selector, error) {
	const field = "selector"
	if s == nil || (s.GetNamespace() == "" && s.GetPodSelector() == "" && len(s.GetPodNames()) == 0 && len(s.GetFlowFilters()) == 0) {
		return nil, fmt.Errorf("%s: set namespace, pod_selector, pod_names or flow_filters: a capture never takes every pod", field)
	}
	sel := &selector{namespace: s.GetNamespace()}
	var err error
	if v := s.GetPodSelector(); v != "" {
		if sel.pods, err = labels.Parse(v); err != nil {
			return nil, fmt.Errorf("%s.pod_selector: %w", field, err)
		}
	}
	if v := s.GetNodeSelector(); v != "" {
		if sel.nodes, err = labels.Parse(v); err != nil {
			return nil, fmt.Errorf("%s.node_selector: %w", field, err)
		}
	}
	for i, name := range s.GetPodNames() {
		key := name
		if !strings.Contains(name, "/") {
			if sel.namespace == "" {
				return nil, fmt.Errorf("%s.pod_names[%d]: %q needs a namespace: write namespace/name or set %s.namespace", field, i, name, field)
			}
			key = sel.namespace + "/" + name
		}
		if ns, n, _ := strings.Cut(key, "/"); ns == "" || n == "" || strings.Contains(n, "/") {
			return nil, fmt.Errorf("%s.pod_names[%d]: %q is not a pod name or namespace/name", field, i, name)
		}
		if sel.names == nil {
			sel.names = map[string]bool{}
		}
		sel.names[key] = true
	}
	for i, ff := range s.GetFlowFilters() {
		h, err := splitFlowFilter(ff)
		if err != nil {
			return nil, fmt.Errorf("%s.flow_filters[%d].%w", field, i, err)
		}
		sel.flows = append(sel.flows, h)
	}
	return sel, nil
}

// splitFlowFilter compiles ff's source and destination halves. Only fields
// that describe an endpoint or the node may be set: the others describe
// packets a capture filter selects.
func splitFlowFilter(ff *flowpb.FlowFilter) (flowHalves, error) {
	var bad protoreflect.Name
	src, dst := proto.Clone(ff).(*flowpb.FlowFilter), proto.Clone(ff).(*flowpb.FlowFilter)
	var hasSrc, hasDst bool
	ff.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		switch name := fd.Name(); {
		case srcFields[name]:
			hasSrc = true
			dst.ProtoReflect().Clear(fd)
		case dstFields[name]:
			hasDst = true
			src.ProtoReflect().Clear(fd)
		case nodeFields[name]:
		default:
			bad = name
			return false
		}
		return true
	})
	if bad != "" {
		return flowHalves{}, fmt.Errorf("%s: only the endpoint fields (source_/destination_ pod, label, workload, cluster_name) and node_name, node_labels select pods", bad)
	}
	var h flowHalves
	var err error
	// Node fields alone select every pod of a matching node.
	if hasSrc || !hasDst {
		if h.src, err = buildHalf(src); err != nil {
			return flowHalves{}, err
		}
	}
	if hasDst {
		if h.dst, err = buildHalf(dst); err != nil {
			return flowHalves{}, err
		}
	}
	return h, nil
}

// buildHalf compiles one half; its errors name the field as the request
// does, not as a whitelist entry.
func buildHalf(ff *flowpb.FlowFilter) (filters.Func, error) {
	f, err := filters.Build([]*flowpb.FlowFilter{ff}, nil)
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "whitelist[0]."))
	}
	return f, nil
}

// nodeMatches reports whether the node, by its labels now, is selected.
// Its name is one of its labels, as Kubernetes sets it, so a node selector
// works where no labels are known (an inventory).
func (s *selector) nodeMatches(node *flowview.Node) bool {
	if s.nodes == nil {
		return true
	}
	set := labels.Set{"kubernetes.io/hostname": node.Name}
	for _, kv := range node.LabelsAt(time.Now().UnixNano()) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			set[k] = v
		}
	}
	return s.nodes.Matches(set)
}

// podMatches reports whether p is selected.
func (s *selector) podMatches(p *endpoints.LocalPod, node *flowview.Node) bool {
	if s.namespace != "" && p.Namespace != s.namespace {
		return false
	}
	if s.pods != nil && !s.pods.Matches(labels.Set(p.Labels)) {
		return false
	}
	if s.names != nil && !s.names[p.Namespace+"/"+p.Name] {
		return false
	}
	if s.flows == nil {
		return true
	}
	for _, h := range s.flows {
		if h.src != nil && h.src(podFlow(node, p.Endpoint, true)) {
			return true
		}
		if h.dst != nil && h.dst(podFlow(node, p.Endpoint, false)) {
			return true
		}
	}
	return false
}

// podFlow is a flow of the pod's, at its source or destination, whose other
// end is unknown.
func podFlow(node *flowview.Node, ep intern.Ref, source bool) *flowview.Flow {
	rec := record.Record{Kind: record.KindTrace, Time: time.Now().UnixNano()}
	if source {
		rec.SrcEndpoint = ep
	} else {
		rec.DstEndpoint = ep
	}
	var f flowview.Flow
	f.Reset(node, &rec, 0)
	return &f
}
