package bpf

import (
	"sort"
	"sync"
)

// DropCount is how many packets the kernel dropped for one reason on one
// interface ("" when the drop happened off the captured interfaces, e.g. in
// a socket) in one direction, as the source reported them.
type DropCount struct {
	Reason    string // the kernel's skb_drop_reason name
	Interface string
	// Dir is Ingress for packets a device had received (from the network,
	// a pod or a tunnel), Egress for packets a local socket had sent.
	Dir     Direction
	Packets uint64
	Bytes   uint64
}

type dropKey struct {
	reason uint32
	iface  string
	dir    Direction
}

// dropCounter totals the drops the source reports. Every drop is an event
// (drops are not aggregated), so these are the node's drop counts, less
// ring-buffer losses, which are counted on their own. The reader adds; a
// scrape reads.
type dropCounter struct {
	mu     sync.Mutex
	counts map[dropKey]*DropCount
}

func (d *dropCounter) add(reason uint32, name, iface string, dir Direction, bytes uint32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := dropKey{reason, iface, dir}
	c := d.counts[k]
	if c == nil {
		if d.counts == nil {
			d.counts = map[dropKey]*DropCount{}
		}
		c = &DropCount{Reason: name, Interface: iface, Dir: dir}
		d.counts[k] = c
	}
	c.Packets++
	c.Bytes += uint64(bytes)
}

// snapshot returns the counts sorted by reason, interface and direction.
func (d *dropCounter) snapshot() []DropCount {
	d.mu.Lock()
	out := make([]DropCount, 0, len(d.counts))
	for _, c := range d.counts {
		out = append(out, *c)
	}
	d.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Reason != out[j].Reason {
			return out[i].Reason < out[j].Reason
		}
		if out[i].Interface != out[j].Interface {
			return out[i].Interface < out[j].Interface
		}
		return out[i].Dir < out[j].Dir
	})
	return out
}
