//go:build linux

package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// AddPod creates one more pod on node, wired like the pods Build made, as a
// pod scheduled after the cluster (and any agent in it) started. It returns
// the pod, which is also added to c.Topology.
func (c *Cluster) AddPod(ctx context.Context, node string) (Pod, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.IndexFunc(c.Topology.Nodes, func(n Node) bool { return n.Name == node })
	if i < 0 {
		return Pod{}, fmt.Errorf("add pod: no node %q", node)
	}
	n := c.Topology.Nodes[i]
	if len(n.Pods) >= MaxPodsPerNode {
		return Pod{}, fmt.Errorf("add pod to %s: it has %d pods, the most a node can have", node, len(n.Pods))
	}
	p := planPod(c.Topology.Prefix, n, len(n.Pods)+1, len(c.Topology.Pods()))
	if err := ipBatch(ctx, "", []string{"netns add " + p.Netns}); err != nil {
		return Pod{}, fmt.Errorf("add pod %s: %w", p.Key(), err)
	}
	err := setSysctls(NewNetns(p.Netns), noDAD)
	if err == nil {
		err = ipBatch(ctx, n.Netns, hostVethCommands(n, p))
	}
	if err == nil {
		err = configurePod(ctx, NewNetns(n.Netns), n, p)
	}
	if err == nil {
		err = c.waitLinksUp(ctx, []string{n.Netns, p.Netns})
	}
	if err != nil {
		// Deleting the namespace removes the veth pair with it.
		return Pod{}, errors.Join(fmt.Errorf("add pod %s: %w", p.Key(), err),
			ipBatch(context.WithoutCancel(ctx), "", []string{"netns del " + p.Netns}))
	}
	c.Topology.Nodes[i].Pods = append(c.Topology.Nodes[i].Pods, p)
	return p, nil
}
