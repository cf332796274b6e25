//go:build linux

package retina

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/bpf"
)

// Datapath is what the node's forward and drop series are read from;
// *bpf.Source is one.
type Datapath interface {
	ForwardCounts() ([]bpf.ForwardCount, error)
	DropCounts() []bpf.DropCount
}

// WithDatapath adds forward_count, forward_bytes, drop_count and drop_bytes
// read from dp.
func WithDatapath(dp Datapath) Option {
	return func(c *Node) {
		c.readers = append(c.readers, reader{
			name:  "datapath",
			descs: []*prometheus.Desc{descForwardCount, descForwardBytes, descDropCount, descDropBytes},
			read:  func() ([]prometheus.Metric, error) { return readDatapath(dp) },
		})
	}
}

// readDatapath sums the forward counters of the interfaces facing the
// network, where each of the node's packets is counted once (a pod's
// packet is also counted on its veth), and the drops by kernel reason
// and direction over every interface.
func readDatapath(dp Datapath) ([]prometheus.Metric, error) {
	forward, err := dp.ForwardCounts()
	if err != nil {
		return nil, err
	}
	var packets, bytes [2]uint64
	for _, f := range forward {
		if f.Network {
			packets[f.Dir] += f.Packets
			bytes[f.Dir] += f.Bytes
		}
	}
	var out []prometheus.Metric
	for _, d := range []bpf.Direction{bpf.Ingress, bpf.Egress} {
		out = append(out,
			prometheus.MustNewConstMetric(descForwardCount, prometheus.CounterValue, float64(packets[d]), d.String()),
			prometheus.MustNewConstMetric(descForwardBytes, prometheus.CounterValue, float64(bytes[d]), d.String()))
	}
	type key struct {
		dir    bpf.Direction
		reason string
	}
	drops := map[key]*bpf.DropCount{}
	var order []key
	for _, d := range dp.DropCounts() {
		k := key{d.Dir, d.Reason}
		sum := drops[k]
		if sum == nil {
			sum = &bpf.DropCount{}
			drops[k] = sum
			order = append(order, k)
		}
		sum.Packets += d.Packets
		sum.Bytes += d.Bytes
	}
	for _, k := range order {
		d := drops[k]
		out = append(out,
			prometheus.MustNewConstMetric(descDropCount, prometheus.CounterValue, float64(d.Packets), k.dir.String(), k.reason),
			prometheus.MustNewConstMetric(descDropBytes, prometheus.CounterValue, float64(d.Bytes), k.dir.String(), k.reason))
	}
	return out, nil
}
