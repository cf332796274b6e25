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
	// (every namespace when empty) and not in Exclude.
	Namespaces NamespaceSelector `json:"namespaces,omitzero"`
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
	if c.Mode != RetinaAdvanced && (c.ContextMode != "" || len(c.Namespaces.Include)+len(c.Namespaces.Exclude) > 0) {
		return fmt.Errorf("retina: contextMode and namespaces select pods for the advanced mode, not %q", c.Mode)
	}
	return nil
}

func (c RetinaConfig) equal(o RetinaConfig) bool {
	return c.Mode == o.Mode && c.ContextMode == o.ContextMode &&
		slices.Equal(c.Namespaces.Include, o.Namespaces.Include) && slices.Equal(c.Namespaces.Exclude, o.Namespaces.Exclude)
}

// compileRetina builds the handlers of Retina's flow series c enables;
// apiServer are the API server's addresses the agent was given.
func compileRetina(c RetinaConfig, limit int, apiServer []netip.Addr) ([]handler, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.Mode == "" {
		return nil, nil
	}
	hs := []handler{newRetinaDNSHandler(limit)}
	if c.Mode == RetinaAdvanced {
		hs = append(hs, newRetinaAdvHandler(c, limit), newRetinaAPIServerHandler(apiServer, limit))
	}
	return hs, nil
}

// histogrammer is a handler that has histograms besides its stores.
type histogrammer interface {
	histograms() []*histogram
}
