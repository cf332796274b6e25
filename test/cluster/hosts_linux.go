//go:build linux

package cluster

import "github.com/foveanet/fovea/test/traffic"

// Hosts returns every pod as a traffic host, in node order, named by Key.
func (c *Cluster) Hosts() []traffic.Host {
	var hosts []traffic.Host
	for _, p := range c.Topology.Pods() {
		hosts = append(hosts, traffic.Host{Name: p.Key(), Netns: NewNetns(p.Netns), IPv4: p.IPv4, IPv6: p.IPv6})
	}
	return hosts
}
