package filters

import (
	"fmt"
	"strings"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
)

// defaultCluster is the cluster Hubble assumes for node names without one.
const defaultCluster = "default"

func buildNodeName(ff *flowpb.FlowFilter, c *config) ([]Func, error) {
	v := ff.GetNodeName()
	if len(v) == 0 {
		return nil, nil
	}
	re, err := c.budget.compileAlternatives(v, writeNodeNamePattern)
	if err != nil {
		return nil, fmt.Errorf("node_name: %w", err)
	}
	matchNode := func(n *flowview.Node) bool {
		name := absoluteNodeName(n)
		return name != "" && re.MatchString(name)
	}
	cache := &nodeCache{}
	return []Func{func(e *flowview.Flow) bool {
		return !e.IsLost() && cache.get(e.Node(), matchNode)
	}}, nil
}

// absoluteNodeName is the node name a node_name pattern is matched against:
// the flow's node name, with Hubble's default cluster prepended when it has
// none.
func absoluteNodeName(n *flowview.Node) string {
	name := n.AbsoluteName()
	if name == "" || strings.Contains(name, "/") {
		return name
	}
	return defaultCluster + "/" + name
}
