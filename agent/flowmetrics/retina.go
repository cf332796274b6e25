package flowmetrics

import (
	"fmt"
	"net/netip"
	"slices"
)

// Retina's modes and context modes, as its configuration names them.
const (
	RetinaBasic    = "basic"
	RetinaAdvanced = "advanced"
	ContextRemote  = "remote"
	ContextLocal   = "local"
)

// RetinaConfig says which of Retina's flow series (networkobservability_*)
// are counted. The node's kernel series are not flows' and are served
// apart (agent/retina).
type RetinaConfig struct {
	// Mode is "" (none), basic (the node's dns_request_count and
	// dns_response_count) or advanced (those and the pod-level adv_*
	// series).
	Mode string `json:"mode,omitempty"`
	// ContextMode is the context labels of the adv_* series: remote (the
	// default: source_* and destination_*) or local (only the selected
	// pod's side: source_* of what it sends, destination_* of what it
	// receives).
	ContextMode string `json:"contextMode,omitempty"`
	// Namespaces select the pods the adv_* series count: those in Include
	// (every namespace when empty, unless Annotations) and not in Exclude.
	Namespaces NamespaceSelector `json:"namespaces,omitzero"`
	// Annotations selects, as Retina's enableAnnotations does, the pods
	// that carry the annotation retina.sh: observe, themselves or through
	// their namespace, besides those of Namespaces.Include.
	Annotations bool `json:"annotations,omitempty"`
}

// NamespaceSelector selects namespaces by name.
type NamespaceSelector struct {
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
}

// validate reports the first setting Fovea does not know.
func (c RetinaConfig) validate() error {
	switch c.Mode {
	case "", RetinaBasic, RetinaAdvanced:
	default:
		return fmt.Errorf("retina: mode %q is none of %s, %s", c.Mode, RetinaBasic, RetinaAdvanced)
	}
	switch c.ContextMode {
	case "", ContextRemote, ContextLocal:
	default:
		return fmt.Errorf("retina: contextMode %q is none of %s, %s", c.ContextMode, ContextRemote, ContextLocal)
	}
	if c.Mode != RetinaAdvanced && (c.ContextMode != "" || c.Annotations || len(c.Namespaces.Include)+len(c.Namespaces.Exclude) > 0) {
		return fmt.Errorf("retina: contextMode, namespaces and annotations select pods for the advanced mode, not %q", c.Mode)
	}
	return nil
}

func (c RetinaConfig) equal(o RetinaConfig) bool {
	return c.Mode == o.Mode && c.ContextMode == o.ContextMode && c.Annotations == o.Annotations &&
		slices.Equal(c.Namespaces.Include, o.Namespaces.Include) && slices.Equal(c.Namespaces.Exclude, o.Namespaces.Exclude)
}

// retinaNode is what Retina's handlers know of the node beyond flows: the
// API server's addresses the agent was given, and which pods carry
// Retina's annotation (nil: none).
type retinaNode struct {
	apiServer []netip.Addr
	observed  func(namespace, pod string) bool
}

// compileRetina builds the handlers of Retina's flow series c enables.
func compileRetina(c RetinaConfig, limit int, node retinaNode) ([]handler, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.Mode == "" {
		return nil, nil
	}
	hs := []handler{newRetinaDNSHandler(limit)}
	if c.Mode == RetinaAdvanced {
		hs = append(hs, newRetinaAdvHandler(newRetinaContext(c, node.observed), limit), newRetinaAPIServerHandler(node.apiServer, limit))
	}
	return hs, nil
}

// histogrammer is a handler that has histograms besides its stores.
type histogrammer interface {
	histograms() []*histogram
}
